"""The fenced blocks of README.md and docs/*.md, and how tests/test_docs_run.py runs them.

What is run
-----------
- A shell block (fence ```` ``` ````, ```` ```bash ````, ```` ```sh ````, ```` ```shell ```` or
  ```` ```console ````) that has a command line: a line whose command word, after ``$ ``, variable
  assignments and the wrappers ``nice -n N``, ``timeout N``, ``/usr/bin/time -v`` and ``time``, is ``gankit``,
  ``python``, ``make``, ``torchrun`` or ``pip``, or a ``for`` loop. Blocks of output only, tables
  and usage synopses (fenced ```` ```text ````) are not run.
- A ```` ```python ```` block.

How
---
- Each block runs in a fresh working directory holding a copy of ``examples/``, as a user in the
  repository root would; the commands of one block run in order in that directory.
- Shell lines go through bash only to expand them (quotes, comments, ``for`` loops, variables):
  ``gankit``, ``cd``, ``python`` and the other command words are bash functions that record their
  arguments (``set -f``: globs are kept and expanded by the harness when the command runs, after
  the earlier commands have made their files); PATH is empty and an unknown command is recorded
  too, so nothing but bash itself runs there. The recorded ``gankit`` commands then run
  in-process through ``gankit.cli.main`` (one Python start for the whole test); exit status 0
  is required. The wrappers above are dropped (they only measure or set a thread count).
- Optional groups in a command (``[--json]``, ``[-n 64 -o nb.npy]``) are run with their contents.
- ``$ `` lines (console style) are commands, the lines after one up to the next ``$ `` are its
  printed output, compared line by line with what it prints (see OUTPUT_CHECKS in the test for
  the lines a machine may print otherwise).
- A python block runs in a subprocess (``sys.executable -c``), so it cannot touch the test
  process; it must exit with status 0.
- Any other command (``make``, ``torchrun``, ``pip``, ``python`` in a shell block) must be named
  in the test's SKIP list with its reason, and so must a ``gankit`` line that cannot run.

Shortening (not with GANKIT_DOCS_FULL=1)
----------------------------------------
Done by the harness, never by the product; the tables below are all of it.

- ``gankit train`` and ``gankit sweep`` (whose ``--trials N`` becomes ``min(N, 2)``):
  - ``--steps N`` becomes ``max(10, N // 200)`` (``--resume`` runs keep their order: 5000 then
    8000 become 25 then 40); a run without ``--steps`` gets ``--steps 10``;
  - ``--seeds N`` becomes ``min(N, 2)``;
  - ``--threads N`` becomes ``--threads 1`` (the suite runs one torch thread per process,
    tests/conftest.py; two threads on a busy machine are many times slower);
  - a new run gets ``--set`` for every key of TRAIN_SETS that the line does not set itself, and
    ``eval.drs=20`` when its ``--preset``/``--config`` asks for rejection sampling (the preset's
    2,000 classifier steps);
  - ``--print-config`` lines are not changed.
- python blocks: every ``GAN(...)``/``VAE(...)`` call is rewritten (``ast``): ``steps=N`` as
  above (10 when absent), plus ``**{...}`` of TRAIN_SETS (and ``eval.drs`` as above).
"""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGS = {"", "bash", "sh", "shell", "console"}
COMMAND_WORDS = {"gankit", "python", "python3", "make", "torchrun", "pip", "for"}
WRAPPER = re.compile(r"^(\s*)(?:[A-Z_][A-Z0-9_]*=\S*\s+|nice(?:\s+-n\s*-?\d+)?\s+|(?:/usr/bin/)?time(?:\s+-v)?\s+"
                     r"|timeout\s+\d+\s+)+")
OPTIONAL = re.compile(r"\[(-[^\[\]]*)\]")  # an optional group of flags: [--json], [-n 64 -o nb.npy]
FULL = os.environ.get("GANKIT_DOCS_FULL") == "1"

#: ``--set`` keys of a shortened new run (a key the command sets itself is left alone)
TRAIN_SETS = {
    "train.eval_every": 50,  # with 10-40 steps: one evaluation and checkpoint, at the end
    "train.checkpoint_every": 50,
    "eval.n_samples": 200,
    "eval.w1_samples": 200,
    "train.snapshots": False,  # no frames or training.gif
}
DRS_STEPS = 20
DEFAULT_STEPS = 10  # a run whose steps the command does not give


@dataclass
class Block:
    doc: str  # path relative to the repository root
    line: int  # line of the opening fence (1-based)
    lang: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)


def doc_paths() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``."""
    out, current = [], None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if current is None:
                current = Block(str(path.relative_to(ROOT)), n, line[3:].strip().lower())
            else:
                out.append(current)
                current = None
        elif current is not None:
            current.lines.append((n, line))
    return out


def command_word(line: str) -> str | None:
    """The command a shell line runs (``$ `` and wrappers removed), or None for other lines."""
    text = WRAPPER.sub(r"\1", line[2:] if line.startswith("$ ") else line).strip()
    word = text.split(" ", 1)[0] if text else ""
    return word if word in COMMAND_WORDS or (line.startswith("$ ") and word) else None


def runnable_blocks() -> list[Block]:
    """The blocks the test runs, in document order."""
    found = []
    for path in doc_paths():
        for b in blocks(path):
            if b.lang == "python" or (b.lang in SHELL_LANGS and any(command_word(t) for _, t in b.lines)):
                found.append(b)
    return found


def command_lines(block: Block) -> list[tuple[int, str]]:
    """The lines of a shell block that run something (a ``for`` loop's body included)."""
    return [(n, t) for n, t in block.lines if command_word(t)]


# --- expanding shell text into commands -------------------------------------------------------

_RECORDER = r"""
set -f
command_not_found_handle() { __rec "$@"; }
__rec() { { for a in "$@"; do printf '%s\0' "$a"; done; printf '\1\0'; } >> "$__REC"; }
for __w in gankit python python3 make torchrun pip cd; do eval "$__w() { __rec $__w \"\$@\"; }"; done
nice() { while [ "${1#-}" != "$1" ]; do [ "$1" = -n ] && shift; shift; done; "$@"; }
"""


def expand(script: str, tmp: Path) -> list[list[str]]:
    """The commands ``script`` runs, in order, as argument lists (nothing is executed)."""
    script = "\n".join(OPTIONAL.sub(r"\1", WRAPPER.sub(r"\1", line)) for line in script.splitlines())
    rec = tmp / ".docs-test-record"
    rec.write_bytes(b"")
    env = {"PATH": str(tmp / ".no-commands"), "__REC": str(rec), "HOME": str(tmp)}
    proc = subprocess.run([shutil.which("bash") or "/bin/bash", "-c", _RECORDER + script], cwd=tmp, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"bash could not read the block: {proc.stderr.strip()}"
    commands, current = [], []
    for arg in rec.read_bytes().decode().split("\0")[:-1]:
        if arg == "\1":
            commands.append(current)
            current = []
        else:
            current.append(arg)
    return commands


def expand_globs(argv: list[str]) -> list[str]:
    """Expand glob patterns now, as bash would have (a pattern that matches nothing stays)."""
    out = []
    for a in argv:
        matches = sorted(glob.glob(a)) if glob.has_magic(a) else []
        out.extend(matches or [a])
    return out


# --- shortening ---------------------------------------------------------------------------------

def shorter_steps(n: int) -> int:
    return max(10, n // 200)


def _asks_for_drs(preset: str | None, config: str | None) -> bool:
    files = [ROOT / "src" / "gankit" / "configs" / f"{preset}.toml"] if preset else []
    files += [Path(config)] if config else []
    return any(f.is_file() and tomllib.loads(f.read_text()).get("eval", {}).get("drs", 0) > 0 for f in files)


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def shorten(argv: list[str]) -> list[str]:
    """``argv`` (without ``gankit``) as the shortened test runs it."""
    if FULL or not argv or argv[0] not in ("train", "sweep") or "--print-config" in argv:
        return argv
    argv = list(argv)
    if "--trials" in argv:  # gankit sweep --search: two trials
        i = argv.index("--trials") + 1
        argv[i] = str(min(int(argv[i]), 2))
    if "--steps" in argv:
        i = argv.index("--steps") + 1
        argv[i] = str(shorter_steps(int(argv[i])))
    else:
        argv += ["--steps", str(DEFAULT_STEPS)]
    if "--threads" in argv:  # the suite runs one torch thread per process (tests/conftest.py)
        argv[argv.index("--threads") + 1] = "1"
    if "--seeds" in argv:
        i = argv.index("--seeds") + 1
        argv[i] = str(min(int(argv[i]), 2))
    if "--resume" in argv:
        return argv  # a resumed run keeps its own (shortened) config
    own = {argv[i + 1].split("=", 1)[0] for i, a in enumerate(argv[:-1]) if a == "--set"}
    sets = dict(TRAIN_SETS)
    if _asks_for_drs(_option(argv, "--preset"), _option(argv, "--config")):
        sets["eval.drs"] = DRS_STEPS
    for key, value in sets.items():
        if key not in own:
            argv += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return argv


class _ShortenCalls(ast.NodeTransformer):
    """Rewrite ``GAN(...)``/``VAE(...)`` calls as ``shorten`` does command lines."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in ("GAN", "VAE")):
            return node
        kws = {k.arg: k for k in node.keywords if k.arg}
        if "steps" in kws and isinstance(kws["steps"].value, ast.Constant):
            kws["steps"].value = ast.Constant(shorter_steps(kws["steps"].value.value))
        elif "steps" not in kws:
            node.keywords.append(ast.keyword("steps", ast.Constant(DEFAULT_STEPS)))
        preset = kws["preset"].value.value if "preset" in kws and isinstance(kws["preset"].value, ast.Constant) else None
        sets = dict(TRAIN_SETS) | ({"eval.drs": DRS_STEPS} if _asks_for_drs(preset, None) else {})
        node.keywords.append(ast.keyword(None, ast.Dict([ast.Constant(k) for k in sets],
                                                        [ast.Constant(v) for v in sets.values()])))
        return node


def shorten_python(source: str) -> str:
    """A python block's source as the shortened test runs it."""
    if FULL:
        return source
    return ast.unparse(ast.fix_missing_locations(_ShortenCalls().visit(ast.parse(source))))
