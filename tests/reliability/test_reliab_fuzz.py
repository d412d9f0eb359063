"""Property-based input hardening: configs, mixture specs and data files never give a traceback.

Every generated input is either accepted or refused with :class:`GankitError` (one line,
exit status 2 on the command line); where the rule is simple an oracle also checks that
invalid input is never accepted silently. Budgets are fixed (``derandomize=True``) so the
suite is repeatable; ``FUZZ_CASES`` below adds up to the number reported in
docs/guarantees.md.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import math
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit.cli import main
from gankit.config import RunConfig, dumps_toml, loads_toml, to_dict
from gankit.data.toy import parse_mixture
from gankit.errors import GankitError

torch.set_num_threads(1)
FUZZ_CASES = {"overrides": 300, "toml": 300, "spec_random": 300, "spec_near": 300, "files": 350, "mutations": 100}
TMP = Path(tempfile.mkdtemp(prefix="gankit-fuzz-"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return int(code or 0), out.getvalue(), err.getvalue()


def assert_clean(code: int, err: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


# --------------------------------------------------------------------------- configs

KEYS = [f"{s}.{k}" for s, v in to_dict(RunConfig()).items() for k in v]
values = st.one_of(
    st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("inf", "inf")),
    st.sampled_from(["true", "false", '"adam"', '"sgd"', '"rollback"', '"relu"', "nan", "-inf", "[0.5, 0.9]",
                     '"ring8"', '"fgan:kl"', '"fgan:nope"', '"N(0,1)"', '"0.5*N(0,1) + 0.6*N(1,1)"', "{a=1}", "",
                     '"cuda:x"', '"mlp"', '"x\\u0000y"']),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10),
                 st.sampled_from(["train", "train.", ".steps", "train.steps.x", "nope.steps", "train.nope"]))


def oracle(key: str, text: str) -> bool | None:
    """Whether a single override is valid, for fields with a simple rule (None: no opinion)."""
    import tomllib

    try:
        v = tomllib.loads(f"v = {text}")["v"]
    except Exception:
        v = text
    is_int = isinstance(v, int) and not isinstance(v, bool)
    is_num = isinstance(v, (int, float)) and not isinstance(v, bool)
    rules = {
        "train.steps": lambda: is_int and v >= 1,
        "train.keep_checkpoints": lambda: is_int and v >= 1,
        "train.lr_g": lambda: is_num and math.isfinite(v) and v > 0,
        "train.beta1": lambda: is_num and 0 <= v < 1,
        "train.nan_lr_factor": lambda: is_num and 0 < v < 1,
        "train.on_nan": lambda: v in ("stop", "rollback"),
        "train.optimizer": lambda: v in ("adam", "rmsprop", "sgd"),
        "train.progress": lambda: isinstance(v, bool),
        "model.activation": lambda: v in ("relu", "leaky_relu", "elu", "tanh", "silu"),
        "model.name": lambda: v == "mlp",
        "objective.name": lambda: v in ("ns", "minimax", "fgan:kl"),
    }
    return rules[key]() if key in rules else None


@fuzz(FUZZ_CASES["overrides"])
@given(st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_fuzz_dotted_overrides(pairs: list[tuple[str, str]]) -> None:
    argv = ["train", "--print-config"]
    for k, v in pairs:
        argv += ["--set", f"{k}={v}"]
    code, out, err = run_cli(argv)
    assert_clean(code, err)
    if code == 0:  # what was printed is a valid config that round-trips
        cfg = loads_toml(out)
        assert loads_toml(dumps_toml(cfg)) == cfg
    if len(pairs) == 1:
        expected = oracle(*pairs[0])
        if expected is not None:
            assert (code == 0) == expected, (pairs, err)


toml_scalars = st.one_of(st.integers(min_value=-2**63, max_value=2**63 - 1), st.floats(), st.booleans(),
                         st.text(max_size=10), st.lists(st.integers(-5, 5), max_size=3))
toml_docs = st.dictionaries(
    st.one_of(st.sampled_from(["data", "model", "objective", "vae", "train", "eval"]), st.text(max_size=6)),
    st.one_of(st.dictionaries(st.one_of(st.sampled_from([k.split(".")[1] for k in KEYS]), st.text(max_size=6)),
                              toml_scalars, max_size=4), toml_scalars),
    max_size=4)


def to_toml(doc: dict) -> str:
    import json

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return str(v)

    top = [f"{json.dumps(k)} = {val(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = [f"[{json.dumps(k)}]\n" + "\n".join(f"{json.dumps(a)} = {val(b)}" for a, b in v.items())
              for k, v in doc.items() if isinstance(v, dict)]
    return "\n".join(top + tables) + "\n"


@fuzz(FUZZ_CASES["toml"] // 2)
@given(toml_docs)
def test_fuzz_toml_documents(doc: dict) -> None:
    try:
        cfg = loads_toml(to_toml(doc))
    except GankitError as exc:
        assert "\n" not in str(exc).strip()
        return
    assert loads_toml(dumps_toml(cfg)) == cfg
    assert set(doc) <= {"data", "model", "objective", "vae", "train", "eval"}


@fuzz(FUZZ_CASES["toml"] // 2)
@given(st.text(alphabet=st.sampled_from(list('[]=".\n #abcdeimnoprstuv0123456789_-+,{}')), max_size=60))
def test_fuzz_toml_text(text: str) -> None:
    try:
        cfg = loads_toml(text)
    except GankitError:
        return
    assert loads_toml(dumps_toml(cfg)) == cfg


# --------------------------------------------------------------------------- mixture specs


def check_accepted_mixture(src) -> None:
    assert abs(src.weights.sum() - 1) <= 1e-6 and (src.weights > 0).all() and (src.stds > 0).all()
    assert np.isfinite(src.means).all() and np.isfinite(src.stds).all()
    again = parse_mixture(src.spec())  # the spec a run records gives back exactly the same mixture
    for a, b in ((again.weights, src.weights), (again.means, src.means), (again.stds, src.stds)):
        assert np.array_equal(a, b)


@fuzz(FUZZ_CASES["spec_random"])
@given(st.text(alphabet=st.sampled_from(list("0123456789.eE+-*N() ,x")), max_size=40))
def test_fuzz_mixture_random_strings(spec: str) -> None:
    try:
        src = parse_mixture(spec)
    except GankitError as exc:
        assert "\n" not in str(exc)
        return
    check_accepted_mixture(src)


num = st.one_of(st.floats(min_value=-1e3, max_value=1e3), st.sampled_from([0.0, -0.0, 1e-300, 1e308, 1e309]),
                st.floats(allow_nan=True, allow_infinity=True))


@fuzz(FUZZ_CASES["spec_near"])
@given(st.lists(st.tuples(st.integers(-2, 9), num, num), min_size=1, max_size=5), st.booleans())
def test_fuzz_mixture_near_valid(terms: list[tuple[int, float, float]], normalise: bool) -> None:
    total = sum(max(a, 0) for a, _, _ in terms) or 1
    ws = [a / total if normalise else a / 10 for a, _, _ in terms]
    parts = [f"{w!r}*N({m!r},{s!r})" for w, (_, m, s) in zip(ws, terms, strict=True)]
    spec = " + ".join(parts)
    parsed = [(float(repr(w)), float(repr(m)), float(repr(s))) for w, (_, m, s) in zip(ws, terms, strict=True)]
    valid = (all(math.isfinite(x) for t in parsed for x in t) and all(w > 0 for w, _, _ in parsed)
             and all(s > 0 for _, _, s in parsed) and abs(math.fsum(w for w, _, _ in parsed) - 1) <= 1e-6
             and all(abs(m) <= 1e6 and s <= 1e6 for _, m, s in parsed))  # the documented magnitude limit
    try:
        src = parse_mixture(spec)
    except GankitError:
        assert not valid, spec
        return
    assert valid, f"accepted invalid spec {spec!r}"
    check_accepted_mixture(src)


def test_mixture_weights_not_summing_to_one_are_rejected() -> None:
    for spec in ("0.5*N(0,1) + 0.6*N(1,1)", "N(0,1) + N(2,1)", "0.3*N(0,1)", "0.5*N(0,1) + 0.5*N(1,0)"):
        with pytest.raises(GankitError):
            parse_mixture(spec)
    code, _, err = run_cli(["train", "--print-config", "--data", "0.5*N(0,1) + 0.6*N(1,1)"])
    assert code == 2 and "sum to 1" in err


# --------------------------------------------------------------------------- data files

kinds = st.sampled_from(["points.npy", "points.csv", "points.npz", "images.npy", "images.npz", "t-images-idx3-ubyte", "step.ckpt"])
IDX_MAGIC = [b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x00\x00\x0d\x02", b"\x00\x00\x08\x00"]
NPY_MAGIC = b"\x93NUMPY\x01\x00"


@st.composite
def file_bytes(draw):
    kind = draw(kinds)
    body = draw(st.binary(max_size=300))
    mode = draw(st.sampled_from(["raw", "prefixed"]))
    if mode == "prefixed":  # near-valid: the right magic number, then garbage
        if kind.endswith(".npy"):
            body = NPY_MAGIC + struct.pack("<H", len(body)) + body
        elif "idx" in kind:
            dims = draw(st.lists(st.integers(0, 2**31 - 1), min_size=0, max_size=4))
            body = draw(st.sampled_from(IDX_MAGIC)) + b"".join(struct.pack(">I", d) for d in dims) + body
        elif kind.endswith(".ckpt"):
            body = b"GANKIT-CKPT 1 " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
        elif kind.endswith(".csv"):
            body = b"x,weight\n" + body
        elif kind.endswith(".npz"):  # a real archive with a few bytes overwritten
            buf = io.BytesIO()
            np.savez(buf, points=np.arange(12.0).reshape(6, 2), x=np.zeros((2, 4, 4), np.uint8))
            b = bytearray(buf.getvalue())
            for i, v in draw(st.lists(st.tuples(st.integers(0, len(b) - 1), st.integers(0, 255)), max_size=6)):
                b[i] = v
            body = bytes(b)
    return kind, body


@fuzz(FUZZ_CASES["files"])
@given(file_bytes())
def test_fuzz_data_files(case: tuple[str, bytes]) -> None:
    from gankit.data.images import load_images
    from gankit.divergences.emd_io import load_points
    from gankit.train.checkpoint import load_checkpoint

    kind, body = case
    path = TMP / kind
    path.write_bytes(body)
    load = {"points": load_points, "images": load_images, "t-images": load_images, "step": load_checkpoint}
    try:
        load[kind.split(".")[0].rsplit("-idx", 1)[0]](path)
    except GankitError as exc:
        assert "\n" not in str(exc).strip(), str(exc)


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from reliab_helpers import tiny_config

    from gankit.run import Run

    out = tmp_path_factory.mktemp("fz") / "run"
    Run(tiny_config("train.steps=2", "train.eval_every=0"), out).fit(pictures=False)
    return sorted((out / "checkpoints").iterdir())[-1].read_bytes()


def test_fuzz_mutated_real_checkpoints(real_checkpoint: bytes) -> None:
    """Byte flips in a real checkpoint's payload, re-hashed so they reach the unpickler: refused or loaded."""
    from gankit.train.checkpoint import CheckpointError, load_checkpoint

    payload = real_checkpoint[real_checkpoint.index(b"\n") + 1:]
    rng = np.random.default_rng(0)
    path = TMP / "mut.ckpt"
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(FUZZ_CASES["mutations"]):
        b = bytearray(payload)
        for i in rng.integers(0, len(b), size=int(rng.integers(1, 8))):
            b[i] = int(rng.integers(0, 256))
        b = bytes(b)
        path.write_bytes(b"GANKIT-CKPT 1 " + hashlib.sha256(b).hexdigest().encode() + b"\n" + b)
        try:
            load_checkpoint(path)
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == FUZZ_CASES["mutations"]
