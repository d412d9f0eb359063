"""``gankit sweep``: many runs (configs × a grid × seeds) as normal run directories, a leaderboard, a search.

- :func:`plan` -- configs, a ``--set`` grid and seeds → one :class:`Job` per run directory;
- :func:`run_sweep` -- train what is not done (this process, a process pool or Ray), resumably,
  then write ``summary.json`` and ``leaderboard.md``;
- :func:`run_search` -- an Optuna study over a config's ``[search]`` table, each trial a sweep of seeds.

Every run goes through :class:`gankit.run.Run`, as ``gankit train`` does (docs/sweep.md).
"""

from .grid import Combo, Job, load_config, parse_grid, plan, seed_list, split_values
from .search import run_search, search_space
from .summary import LEADERBOARD_FILE, fmt_stat, leaderboard, summarise, write_summary
from .sweep import check_out, run_sweep, train_jobs
from .worker import STATUS_FILE, run_job, run_state

__all__ = ["Combo", "Job", "load_config", "parse_grid", "plan", "seed_list", "split_values", "run_search",
           "search_space", "LEADERBOARD_FILE", "fmt_stat", "leaderboard", "summarise", "write_summary", "check_out",
           "run_sweep", "train_jobs", "STATUS_FILE", "run_job", "run_state"]
