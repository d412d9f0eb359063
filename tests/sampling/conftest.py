"""Shared checks of the sampler tests."""

from __future__ import annotations

import json

import pytest

from gankit.cli import main


@pytest.fixture
def reports_both(capsys):
    """``check(out, final, keys, off)``: a run scored with a sampler reports its metrics and the
    plain generator's (``plain_*``), ``gankit eval`` reproduces both, and ``gankit eval OFF...``
    (the sampler switched off) scores the plain generator alone."""

    def eval_json(*args):
        code = main([str(a) for a in ("eval", *args, "--json")])
        stdout, _ = capsys.readouterr()
        assert code == 0
        return json.loads(stdout)

    def check(out, final, keys, off):
        assert set(keys) <= set(final) and {f"plain_{k}" for k in keys} <= set(final)
        ev = eval_json(out)
        assert ev["w1"] == pytest.approx(final["w1"]) and ev["plain_w1"] == pytest.approx(final["plain_w1"])
        plain = eval_json(out, *off)
        assert "plain_w1" not in plain and plain["w1"] == pytest.approx(final["plain_w1"])

    return check


@pytest.fixture
def sample_follows_run(capsys, tmp_path):
    """``check(out, on, off, n)``: ``gankit sample`` uses the run's sampler unless told (the same
    draws as with the sampler's flags ``on``; others with ``off``); returns the draws."""
    import numpy as np

    def check(out, on, off, n):
        paths = [tmp_path / f"{k}.npy" for k in "abc"]
        for path, flags in zip(paths, ([], on, off), strict=True):
            assert main([str(a) for a in ("sample", out, "-n", n, "-o", path, *flags)]) == 0
        capsys.readouterr()
        xa, xb, xc = (np.load(p) for p in paths)
        assert np.array_equal(xa, xb) and not np.array_equal(xa, xc)
        return xa

    return check
