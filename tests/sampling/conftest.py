"""Shared checks of the sampler tests."""

from __future__ import annotations

import json

import pytest

from gankit.cli import main


@pytest.fixture
def reports_both(capsys):
    """``check(out, final, keys, off, name)``: a run with the sampler ``name`` reports the generator's own
    metrics at the top level (the headline) and the sampler's under ``samplers[name]``; ``gankit eval``
    reproduces both, and ``gankit eval OFF...`` (the sampler switched off) gives the top level alone."""

    def eval_json(*args):
        code = main([str(a) for a in ("eval", *args, "--json")])
        stdout, _ = capsys.readouterr()
        assert code == 0
        return json.loads(stdout)

    def check(out, final, keys, off, name):
        mine = final["samplers"][name]
        assert set(keys) <= set(final) and set(keys) <= set(mine) and not any(k.startswith("plain_") for k in final)
        saved = json.loads((out / "metrics.json").read_text())
        assert saved["samplers"][name]["w1"] == mine["w1"] and saved["w1"] == final["w1"]
        ev = eval_json(out)
        assert ev["w1"] == pytest.approx(final["w1"]) and ev["samplers"][name]["w1"] == pytest.approx(mine["w1"])
        plain = eval_json(out, *off)
        assert "samplers" not in plain and plain["w1"] == pytest.approx(final["w1"])  # the headline is G's own
        assert mine["w1"] != final["w1"]

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
