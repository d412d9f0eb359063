"""Every shell and python block of README.md and docs/*.md runs as written, and prints what the docs quote.

How blocks are found, run and shortened: the docstring of tests/docs_blocks.py. In short: each
block is one test (``doc:line`` of its opening fence), run in a temporary directory holding a copy
of ``examples/``; ``gankit`` lines run in-process through ``gankit.cli.main`` and must exit 0
without a deprecation notice; python blocks run in a subprocess; ``gankit train`` and the
``GAN``/``VAE`` calls of python blocks are shortened by the harness (fewer steps, smaller
evaluations; the tables in docs_blocks.py). ``GANKIT_DOCS_FULL=1`` runs everything unshortened
(minutes; not part of ``make test``).

SKIP names every line that is not run, with why. The test fails on any other command it does not
know how to run, and on a SKIP entry that no longer matches a line.

The quoted numbers checked, each read from the doc, not copied into the test:

- docs/wasserstein.md: the emd example's printed lines and JSON (console block); the values
  ``gankit train --objective wgan --print-config`` shows; the per-objective defaults table (wgan,
  wgan-gp) and gp_weight's default;
- docs/images.md: the ``shipped`` line of ``gankit metrics-net train`` exactly, the retrained one
  within the doc's 1.5 points / 2 % (console block); the shipped network's hash and FD floor as
  ``gankit eval`` of a digits run prints them;
- docs/vae_classic.md: the ``nb-text`` output on examples/reviews.csv; the naive Bayes and GMM
  rows of the digits table and the sentence quoting the CLI (full-covariance and K = 30: slow);
- docs/theory.md: max |f** - f| of ``theory conjugate``;
- slow: ``theory optimal-d``'s printed block and the ``theory variational`` table (docs/theory.md),
  the 300-step run of docs/speed.md, the 1,000-step ring8 VAE of docs/vae_classic.md.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import torch

from docs_blocks import (
    FULL,
    ROOT,
    Block,
    command_lines,
    expand,
    expand_globs,
    runnable_blocks,
    shorten,
    shorten_python,
)
from gankit.cli import main

BENCHMARK = "a benchmark script (minutes to hours of CPU); its output is the table next to it"
SYNOPSIS = "a usage synopsis with placeholders (SPEC, NAME|all), not a command (lead's doc: fence it as text)"
#: (doc, text in the line): why the line is not run
SKIP = {
    ("README.md", "make demo   #"): "creates .venv and installs gankit (network); its `gankit train` runs below",
    ("README.md", "make test   #"): "runs the whole test suite, this test included",
    ("README.md", "make demo TORCH_INDEX="): "downloads and installs PyTorch (network)",
    ("README.md", "make setup PIP_ARGS="): "installs from a placeholder mirror (network)",
    ("docs/speed.md", 'python -c "while True: pass" &'): "a busy process that never ends (the load of the timing's "
                                                         "second row); the loop below runs without it",
    ("docs/images.md", "python benchmarks/digits_suite.py"): BENCHMARK,
    ("docs/images.md", "python benchmarks/conditional_digits.py"): BENCHMARK,
    ("docs/leaderboard.md", "python benchmarks/toy_suite.py"): BENCHMARK,
    ("docs/leaderboard.md", "python benchmarks/time_to_target.py"): BENCHMARK,
    ("docs/speed.md", "python benchmarks/time_to_target.py"): BENCHMARK,
    ("docs/theory.md", "python benchmarks/fgan_fit_targets.py"): BENCHMARK,
    ("docs/theory.md", "python benchmarks/fgan_modes.py"): BENCHMARK,
    ("docs/theory.md", "python benchmarks/toy_suite.py"): BENCHMARK,
    ("docs/losses.md", "python benchmarks/toy_suite.py"): BENCHMARK,
    ("docs/wasserstein.md", "python benchmarks/wgan_toy.py"): BENCHMARK,
    ("docs/wasserstein.md", "python benchmarks/wgan_critic.py"): BENCHMARK,
    ("docs/sweep.md", "--executor ray"): "starts a local Ray (30-60 s on two cores); tests/sweep checks the Ray "
                                         "executor against the local one (slow)",
    ("docs/sweep.md", "python benchmarks/sweep_overhead.py"): BENCHMARK,
    ("docs/lab.md", "gankit lab"): "serves a page until Ctrl-C; tests/lab drives it in-process and in headless Chromium",
    ("docs/lab.md", "pip install"): "installs the lab extra (network)",
    ("docs/lab.md", "python -m pytest tests/lab"): "the lab's browser test, which takes the screenshots",
    ("docs/lab.md", "python benchmarks/lab_speed.py"): BENCHMARK,
    ("docs/theory.md", "gankit divergence --p"): SYNOPSIS,
    ("docs/theory.md", "gankit theory variational --p SPEC"): SYNOPSIS,
    ("docs/theory.md", "gankit theory fgan-fit [--"): SYNOPSIS,
}
#: blocks that stay slow when shortened (marked slow: not in make test); tests/sweep covers what they show
SLOW: set[str] = {"docs/sweep.md:74", "docs/sweep.md:122"}
BLOCKS = runnable_blocks()


def _skips(block: Block) -> dict[int, str]:
    return {n: why for n, t in command_lines(block) for (doc, key), why in SKIP.items() if doc == block.doc and key in t}


def gankit(argv: list[str]) -> tuple[str, str]:
    """Run ``gankit argv`` in-process; (stdout, stderr). Exit status 0 and no deprecation notice required."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code
    torch.set_num_threads(1)
    assert rc == 0, f"gankit {shlex.join(argv)} exited with {rc}:\n{err.getvalue()[-3000:]}"
    assert "deprecated" not in err.getvalue(), f"gankit {shlex.join(argv)}: {err.getvalue()}"
    return out.getvalue(), err.getvalue()


def _run_commands(block: Block, commands: list[list[str]], monkeypatch) -> list[str]:
    """Run recorded commands in order; stdout of each."""
    printed = []
    for argv in commands:
        word, args = argv[0], expand_globs(argv[1:])
        if word == "cd":
            monkeypatch.chdir(args[0])
            printed.append("")
            continue
        assert word == "gankit", f"{block.id}: '{shlex.join(argv)}' is not a gankit command: add it to SKIP with why"
        out, _ = gankit(shorten(args))
        for (doc, key), check in OUTPUT_CHECKS.items():
            if doc == block.doc and key in shlex.join(argv):
                check(out, (ROOT / doc).read_text())
        printed.append(out)
    return printed


def _run_console(block: Block, tmp_path: Path, skips: dict[int, str], monkeypatch) -> None:
    """``$ `` lines are commands; the lines after each are what it prints."""
    steps: list[tuple[int, str, list[str]]] = []
    for n, t in block.lines:
        if t.startswith("$ "):
            steps.append((n, t[2:], []))
        elif steps:
            steps[-1][2].append(t)
    for n, command, quoted in steps:
        if n in skips:
            continue
        [out] = _run_commands(block, expand(command, tmp_path), monkeypatch)
        key = (block.doc, command.split(" -", 1)[0])
        if key in LOOSE_OUTPUT:
            LOOSE_OUTPUT[key](out.splitlines(), quoted)
        else:
            assert out.splitlines() == quoted, f"{block.doc}:{n} `{command}` printed\n{out}"


def _run_python(block: Block, tmp_path: Path) -> None:
    code = shorten_python(block.text)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=1200,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg",
                               "GANKIT_CACHE": str(tmp_path / ".cache")})
    assert proc.returncode == 0, f"{block.id} (as run:\n{code}\n) failed:\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id, marks=[pytest.mark.slow] * (b.id in SLOW))
                                   for b in BLOCKS])
def test_doc_block_runs(block, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / ".cache"))
    if block.lang == "python":
        return _run_python(block, tmp_path)
    skips = _skips(block)
    runs = [n for n, _ in command_lines(block) if n not in skips]
    if not runs:
        pytest.skip("; ".join(f"{block.doc}:{n}: {why}" for n, why in skips.items()))
    if any(t.startswith("$ ") for _, t in block.lines):
        return _run_console(block, tmp_path, skips, monkeypatch)
    script = "\n".join("" if n in skips else t for n, t in block.lines)
    _run_commands(block, expand(script, tmp_path), monkeypatch)


def test_every_skip_entry_names_a_command_line():
    for doc, key in SKIP:
        hits = [n for b in BLOCKS if b.doc == doc for n, t in command_lines(b) if key in t]
        assert hits, f"SKIP entry ({doc!r}, {key!r}) matches no command line: remove it"


def test_blocks_are_found():
    ids = {b.id.split(":")[0] for b in BLOCKS}
    assert {"README.md", "docs/vae_classic.md", "docs/wasserstein.md", "docs/images.md"} <= ids
    assert any(b.lang == "python" for b in BLOCKS)


def test_harness_expands_without_running(tmp_path):
    """bash only expands: loops, variables and quotes are resolved, an unknown command is recorded, not run."""
    script = ('for s in 0 1; do gankit train --seed $s --out "runs/a $s"; done   # a comment\n'
              'touch made-by-bash\nnice -n 5 gankit list [--json]\ngankit report runs/*')
    assert expand(script, tmp_path) == [["gankit", "train", "--seed", "0", "--out", "runs/a 0"],
                                        ["gankit", "train", "--seed", "1", "--out", "runs/a 1"],
                                        ["touch", "made-by-bash"], ["gankit", "list", "--json"],
                                        ["gankit", "report", "runs/*"]]
    assert not (tmp_path / "made-by-bash").exists()


@pytest.mark.skipif(FULL, reason="GANKIT_DOCS_FULL=1 does not shorten")
def test_harness_shortens_only_what_the_line_does_not_set():
    argv = shorten(["train", "--steps", "5000", "--threads", "2", "--set", "eval.n_samples=9"])
    assert argv[:5] == ["train", "--steps", "25", "--threads", "1"]
    assert "eval.n_samples=9" in argv and "eval.n_samples=200" not in argv and "train.eval_every=50" in argv
    assert shorten(["train", "--resume", "runs/g"]) == ["train", "--resume", "runs/g", "--steps", "10"]
    assert "eval.drs=20" in shorten(["train", "--preset", "grid25-best"])
    assert shorten(["train", "--print-config"]) == ["train", "--print-config"]
    code = shorten_python("g = GAN(steps=3000, seed=0).fit()\nv = VAE.load('runs/v')")
    assert code.startswith("g = GAN(steps=15, seed=0, **{'train.eval_every': 50") and "VAE.load('runs/v')" in code


# --- quoted numbers -----------------------------------------------------------------------------

def _feature_net_lines(printed: list[str], quoted: list[str]) -> None:
    """docs/images.md: the shipped line exactly; a retrained net within the doc's 1.5 points and 2 %."""
    assert len(printed) == len(quoted) == 4
    assert printed[1] == quoted[1] and printed[3] == quoted[3]
    acc = [float(re.search(r"test accuracy ([\d.]+)", line).group(1)) for line in printed[:2]]
    floor = [float(re.search(r"FD floor ([\d.]+)", line).group(1)) for line in printed[:2]]
    assert abs(acc[0] - acc[1]) <= 0.015 and abs(floor[0] / floor[1] - 1) <= 0.02


def _digits_eval_numbers(out: str, doc: str) -> None:
    """docs/images.md's table of the shipped network: hash and FD floor (all 1,438 training images) as
    `gankit eval` prints them (scored again with -n 1438 when the shortened run scores fewer)."""
    record = json.loads(out)
    if record["fd_samples"] < 1438:
        record = json.loads(gankit(["eval", record["run_dir"], "--json", "-n", "1438"])[0])
    assert record["fd_samples"] == 1438
    sha = re.search(r"weights SHA-256 \| `([0-9a-f]{64})`", doc).group(1)
    floor = re.search(r"\| FD floor \| ([\d.]+) ", doc).group(1)
    assert record["feature_net"] == sha[:16] and record["feature_net_provenance"] == "shipped"
    assert f"{record['frechet_floor']:.{len(floor.split('.')[1])}f}" == floor


#: console commands whose printed lines may differ by machine: (doc, command up to its first option) -> check
LOOSE_OUTPUT = {("docs/images.md", "gankit metrics-net train"): _feature_net_lines}
#: (doc, text in the command) -> check(stdout, doc text), run after the command of a block
OUTPUT_CHECKS = {("docs/images.md", "gankit eval runs/digits --json"): _digits_eval_numbers}


def _doc(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_quoted_nb_text_output(tmp_path, monkeypatch):
    """docs/vae_classic.md: the nb-text command (without its optional --json) prints the block after it."""
    text = _doc("docs/vae_classic.md")
    command = re.search(r"^gankit classic nb-text .*$", text, re.M).group(0)
    command = re.sub(r"\s*\[[^\]]*\]", "", command)
    quoted = text[text.index("the command above prints"):].split("```")[1].strip("\n").splitlines()
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    out, _ = gankit(shlex.split(command)[1:])
    assert out.splitlines() == quoted


def _classic_rows() -> list[tuple[list[str], list[str], bool]]:
    """docs/vae_classic.md's classic rows: (command, quoted train / held-out [/ accuracy], slow)."""
    rows = []
    for model, setting, train, test, acc in re.findall(
            r"^\| (GMM|Gaussian naive Bayes) \| ([^|]+) \| ([\d.]+) \| ([\d.]+) \| [^|]+ \| ([^|]+) \|",
            _doc("docs/vae_classic.md"), re.M):
        if model == "GMM":
            k, cov = re.fullmatch(r"K = (\d+), (full|diagonal)( covariance)?", setting.strip()).group(1, 2)
            argv = ["classic", "gmm", "--data", "digits", "--n-components", k, "--covariance-type", cov[:4]]
            rows.append((argv, [train, test], cov == "full" or int(k) > 10))  # full covariance: 7 s; K = 30: 3 s
        else:
            rows.append((["classic", "naive-bayes", "--data", "digits"], [train, test, acc.strip()], False))
    return rows


@pytest.mark.parametrize("argv, quoted", [pytest.param(a, q, id=" ".join(a[1:]), marks=[pytest.mark.slow] * slow)
                                          for a, q, slow in _classic_rows()])
def test_quoted_classic_numbers(argv, quoted):
    """docs/vae_classic.md: its table's GMM and naive Bayes rows (and the sentence quoting the CLI) as the CLI prints them."""
    r = json.loads(gankit([*argv, "--json"])[0])
    printed = [r["train_log_likelihood"], r["test_log_likelihood"], r.get("test_accuracy")][:len(quoted)]
    assert [f"{x:.{len(q.split('.')[1])}f}" for x, q in zip(printed, quoted)] == quoted
    sentence = re.search(rf"`gankit {' '.join(argv[:4])}`\s*\(([^)]*)\)", _doc("docs/vae_classic.md"))
    if sentence and argv[4:] in ([], ["--n-components", "10", "--covariance-type", "full"]):  # the CLI's defaults
        # "`gankit classic naive-bayes --data digits` (held-out 71.35 nats, accuracy 0.8022)", "... gmm ... (47.07)"
        assert re.findall(r"\d+\.\d+", sentence.group(1)) == quoted[1:]


def test_classic_rows_found():
    assert len(_classic_rows()) == 4


def test_quoted_objective_defaults():
    """docs/wasserstein.md: the values `gankit train --objective wgan --print-config` shows."""
    text = _doc("docs/wasserstein.md")
    quoted = re.search(r"`gankit train --objective wgan --print-config` shows the resolved values\s*\(([^)]*)\)", text)
    lines = gankit(["train", "--objective", "wgan", "--print-config"])[0].splitlines()
    values = re.findall(r"`([^`]+)`", quoted.group(1))
    assert values and all(v in lines for v in values), (values, lines)


def test_quoted_objective_defaults_table():
    """docs/wasserstein.md: the per-objective defaults table and gp_weight's default against --print-config."""
    text = _doc("docs/wasserstein.md")
    rows = re.findall(r"^\| `(wgan|wgan-gp)` \| (\w+) \| ([\de.-]+) \| ([^|]+) \| (\d+) \|", text, re.M)
    assert [r[0] for r in rows] == ["wgan", "wgan-gp"]
    for name, optimizer, lr, betas, d_steps in rows:
        cfg = tomllib.loads(gankit(["train", "--objective", name, "--print-config"])[0])
        t = cfg["train"]
        assert (t["optimizer"], t["lr_g"], t["lr_d"], t["d_steps"]) == (optimizer, float(lr), float(lr), int(d_steps))
        if betas.strip() != "–":
            assert (t["beta1"], t["beta2"]) == tuple(float(b) for b in betas.strip(" ()").split(","))
    gp = re.search(r"^\| `gp_weight` \| ([\d.]+) for `wgan-gp`, else 0 \|", text, re.M).group(1)
    cfg = tomllib.loads(gankit(["train", "--objective", "wgan-gp", "--print-config"])[0])
    assert cfg["objective"]["gp_weight"] == float(gp)
    assert tomllib.loads(gankit(["train", "--print-config"])[0])["objective"]["gp_weight"] == 0


def test_quoted_conjugate_error_bound():
    """docs/theory.md: every registered divergence and alpha:0.5, 2, 3, -1 give max |f** - f| <= the quoted bound."""
    text = _doc("docs/theory.md")
    bound = float(re.search(r"give max `\|f\*\* − f\|` ≤ ([\d.e-]+)", text).group(1))
    names = [n for n in json.loads(gankit(["list", "--json"])[0])["divergences"] if ":" not in n]
    for name in names + ["alpha:0.5", "alpha:2", "alpha:3", "alpha:-1"]:
        r = json.loads(gankit(["theory", "conjugate", "--divergence", name, "--json"])[0])
        assert r["max_abs_error"] <= bound, (name, r["max_abs_error"])


@pytest.mark.slow
def test_quoted_optimal_d_output(tmp_path, monkeypatch):
    """docs/theory.md: `gankit theory optimal-d` with its defaults prints the quoted block (10 s)."""
    monkeypatch.chdir(tmp_path)  # its -o picture goes here, not into the working tree
    text = _doc("docs/theory.md")
    command = re.search(r"\*\*Measured\*\* \(`(gankit theory optimal-d[^`]*)`", text).group(1)
    quoted = text[text.index(command):].split("```")[1].strip("\n").splitlines()
    out, _ = gankit([*shlex.split(command)[1:], "--no-progress"])
    lines = out.splitlines()
    start = lines.index(quoted[0])
    assert lines[start:start + len(quoted)] == quoted


@pytest.mark.slow
def test_quoted_variational_table():
    """docs/theory.md: the variational table (exact, bound by quadrature, ratio) from its command (4 x 3 s)."""
    text = _doc("docs/theory.md")
    command = re.search(r"`(gankit theory variational [^`]*(?:--name|--divergence) NAME[^`]*)`", text).group(1)
    rows = re.findall(r"^\| (\w+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", text.split(command, 1)[1], re.M)
    assert len(rows) == 4
    for name, exact, bound, ratio in rows:
        argv = shlex.split(command.replace("NAME", name))[1:] + ["--json", "--no-progress"]
        r = json.loads(gankit(argv)[0])
        row = r["divergences"][name]
        got = [row["exact"], row["bound_quadrature"], row["bound_quadrature"] / row["exact"]]
        assert [f"{g:.4f}" for g in got[:2]] + [f"{got[2]:.3f}"] == [exact, bound, ratio], name


@pytest.mark.slow
def test_quoted_threads_run(tmp_path, monkeypatch):
    """docs/speed.md: 300 steps of the compare preset at one thread end with the quoted w1 and modes (unshortened)."""
    text = _doc("docs/speed.md")
    w1, modes = re.search(r"\(`w1` ([\d.]+), (\d+) modes\)", text).group(1, 2)
    monkeypatch.chdir(tmp_path)
    r = json.loads(gankit(["train", "--preset", "compare", "--steps", "300", "--threads", "1", "--no-progress", "--json",
                           "--out", "t1"])[0])
    assert f"{r['w1']:.{len(w1.split('.')[1])}f}" == w1 and int(r["modes"]) == int(modes)


@pytest.mark.slow
def test_quoted_vae_ring8_run(tmp_path, monkeypatch):
    """docs/vae_classic.md: the 1,000-step VAE on ring8 (unshortened, 20 s) ends with the quoted numbers."""
    text = " ".join(_doc("docs/vae_classic.md").split())
    m = re.search(r"ring8 \(`(gankit train --model vae --data ring8 --steps 1000)`.*?`eval_elbo` = (−?[\d.]+) nats, "
                  r"KL ([\d.]+), (\d+) of 8 modes, ([\d.]+) % high-quality samples, W1 ([\d.]+)", text)
    monkeypatch.chdir(tmp_path)
    r = json.loads(gankit([*shlex.split(m.group(1))[1:], "--json", "--no-progress", "--out", "vae"])[0])
    elbo, kl, modes, hq, w1 = m.group(2, 3, 4, 5, 6)
    assert f"{r['eval_elbo']:.2f}" == elbo.replace("−", "-") and f"{r['eval_kl']:.2f}" == kl
    assert int(r["modes"]) == int(modes) and f"{100 * r['high_quality']:.1f}" == hq and f"{r['w1']:.3f}" == w1
