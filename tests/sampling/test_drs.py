"""Discriminator rejection sampling: exact with the true ratio, a fitted ratio close to it,
and the command-line and config paths (gankit.sampling.fit_ratio / drs_sample)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from scipy import stats
from torch import nn

from gankit.cli import main
from gankit.config import EvalConfig
from gankit.data.toy import parse_mixture
from gankit.errors import GankitError
from gankit.io import RATIO_FILE
from gankit.sampling import check_sampler, drs_sample, fit_ratio


def run_cli(capsys, *args):
    """(exit status, stdout, stderr) of ``gankit ARGS``."""
    code = main([str(a) for a in args])
    return (code, *capsys.readouterr())


class Affine(nn.Module):
    """G(z) = a·z + b on 1-D latents: p_G = N(b, a²)."""

    latent_dim = 1

    def __init__(self, a: float = 1.0, b: float = 0.0) -> None:
        super().__init__()
        self.a, self.b = a, b

    def forward(self, z):
        return self.a * z + self.b


class ExactLogRatio(nn.Module):
    """log N(x; mu_d, sd_d) − log N(x; mu_g, sd_g), by scipy's log densities."""

    def __init__(self, mu_d, sd_d, mu_g, sd_g) -> None:
        super().__init__()
        self.d, self.g = stats.norm(mu_d, sd_d), stats.norm(mu_g, sd_g)

    def forward(self, x):
        x = x.detach().double().numpy()[:, 0]
        return torch.from_numpy(self.d.logpdf(x) - self.g.logpdf(x))


@pytest.mark.parametrize("mu_d, sd_d", [(1.0, 0.5), (-0.7, 0.8)])
def test_drs_with_the_exact_ratio_draws_the_data_distribution(mu_d, sd_d):
    # p_G = N(0, 1); the ratio to a narrower p_d is bounded, so rejection is exact: KS against p_d
    x = drs_sample(Affine(), ExactLogRatio(mu_d, sd_d, 0.0, 1.0), 3000, seed=3)[:, 0].numpy()
    assert x.shape == (3000,)
    assert stats.kstest(x, stats.norm(mu_d, sd_d).cdf).pvalue > 1e-3
    assert stats.kstest(x, stats.norm(0, 1).cdf).pvalue < 1e-6  # not the generator's distribution


def test_drs_is_deterministic_in_its_seed():
    R = ExactLogRatio(1.0, 0.5, 0.0, 1.0)
    a, b, c = (drs_sample(Affine(), R, 500, seed=s) for s in (0, 0, 1))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_fitted_ratio_matches_the_exact_log_ratio():
    # p_d = N(0.5, 0.8²) from a 1-D mixture source, p_G = N(0, 1): log ratio in closed form
    src = parse_mixture("N(0.5,0.8)")
    torch.manual_seed(0)
    R = fit_ratio(Affine(), src, steps=600, seed=0)
    x = torch.linspace(-1.2, 2.0, 33).unsqueeze(1)
    exact = ExactLogRatio(0.5, 0.8, 0.0, 1.0)(x)
    with torch.no_grad():
        got = R(x).double()
    assert float((got - exact).abs().max()) < 0.25, (got - exact).abs().max()
    # and drs with it lands on p_d, not on p_G
    s = drs_sample(Affine(), R, 2000, seed=1)[:, 0].numpy()
    assert abs(s.mean() - 0.5) < 0.08 and abs(s.std() - 0.8) < 0.08


def test_low_acceptance_stops_with_one_clear_error():
    class Wild(nn.Module):  # a ratio estimate that explodes to one side
        def forward(self, x):
            return 40.0 * x[:, 0]

    with pytest.raises(GankitError, match="drs accepted only"):
        drs_sample(Affine(), Wild(), 1000, seed=0, batch=10_000, max_draws=50_000)


def test_truncated_bound_keeps_acceptance_workable():
    # stray huge estimates on a sliver of the generator's mass (0.005 %, below the clipped top
    # 0.01 %) must not drive acceptance to ~0; with the paper's bound (clip = 1) they do
    class Spike(ExactLogRatio):
        def forward(self, x):
            out = super().forward(x)
            return torch.where(torch.from_numpy(x.detach().numpy()[:, 0] > 3.9), torch.full_like(out, 30.0), out)

    x = drs_sample(Affine(), Spike(1.0, 0.5, 0.0, 1.0), 1000, seed=0, batch=50_000, max_draws=400_000)
    assert x.shape == (1000, 1)
    assert stats.kstest(x[:, 0].numpy(), stats.norm(1.0, 0.5).cdf).pvalue > 1e-3
    with pytest.raises(GankitError, match="drs accepted only"):
        drs_sample(Affine(), Spike(1.0, 0.5, 0.0, 1.0), 1000, seed=0, batch=50_000, max_draws=400_000, clip=1.0)


@pytest.mark.parametrize("steps, bw, needle", [
    (-1, 10.0, "drs must be an integer in [0, 100000]"),
    (10, 0.0, "drs bandwidth must be a number in (0, 1000]"),
    (10, math.nan, "drs bandwidth must be a number in (0, 1000]"),
])
def test_bad_drs_settings(steps, bw, needle):
    with pytest.raises(GankitError, match=needle.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        fit_ratio(Affine(), parse_mixture("N(0,1)"), steps, bandwidth=bw)


def test_drs_needs_vector_data_and_one_sampler():
    class Images:
        name, shape = "digits", (1, 8, 8)

    with pytest.raises(GankitError, match="needs vector data"):
        fit_ratio(Affine(), Images(), 10)
    with pytest.raises(GankitError, match="choose one sampler"):
        check_sampler(0.0, 10, 0.9, 100)
    with pytest.raises(GankitError, match="at most one sampler"):
        EvalConfig(hpd=0.9, drs=100)
    with pytest.raises(GankitError, match="eval.drs must be in"):
        EvalConfig(drs=-3)


@pytest.fixture
def drs_run(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "train.steps=300", "train.eval_every=150", "train.checkpoint_every=150",
                         "model.g_width=32", "model.d_width=32", "eval.drs=150", "train.ema=0.9"]
            for a in ("--set", kv)]  # EMA as in the grid25-best preset: the final G is the average
    code, stdout, _ = run_cli(capsys, "train", "--data", "0.5*N(-1,0.5)+0.5*N(1,0.5)", "--out", out, "--json", *sets)
    assert code == 0
    return out, json.loads(stdout)


def test_a_drs_run_reports_both_and_eval_reproduces_them(drs_run, reports_both):
    out, final = drs_run
    drs = final["samplers"]["drs"]
    assert "error" not in drs, drs.get("error")
    assert drs["time"] > 0 and drs["classifier_steps"] == 150
    # a 1-D mixture: mode metrics where defined, exact W1 always; eval refits the same classifier
    reports_both(out, final, {"w1"}, ["--drs", "0"], "drs")
    # the headline is the generator's: the last history record (plain draws, as every record)
    last = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()][-1]
    assert last["step"] == 300 and last["w1"] == final["w1"]


def test_the_run_keeps_its_classifier_for_eval_and_sample(drs_run, tmp_path, capsys, monkeypatch):
    import numpy as np

    import gankit.sampling.drs as drs_module

    out, final = drs_run
    assert (out / RATIO_FILE).is_file()
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert run_cli(capsys, "sample", out, "-n", 50, "-o", a)[0] == 0

    def no_fit(*args, **kwargs):
        raise GankitError("fit_ratio was called")

    monkeypatch.setattr(drs_module, "fit_ratio", no_fit)  # from here on only the kept classifier can serve
    code, stdout, _ = run_cli(capsys, "eval", out, "--json")
    ev = json.loads(stdout)
    assert code == 0 and ev["w1"] == pytest.approx(final["w1"])
    assert ev["samplers"]["drs"]["w1"] == pytest.approx(final["samplers"]["drs"]["w1"])
    assert run_cli(capsys, "sample", out, "-n", 50, "-o", b)[0] == 0
    assert np.array_equal(np.load(a), np.load(b))
    # other steps (or seed) are another classifier: fitted, never the kept one
    code, _, err = run_cli(capsys, "sample", out, "-n", 50, "-o", b, "--drs", 151)
    assert code == 2 and "fit_ratio was called" in err
    monkeypatch.undo()
    (out / RATIO_FILE).write_bytes(b"not a torch file")  # unreadable: fitted again, the same classifier
    assert run_cli(capsys, "sample", out, "-n", 50, "-o", b)[0] == 0
    assert np.array_equal(np.load(a), np.load(b))


def test_sample_cli_with_drs(drs_run, tmp_path, capsys, sample_follows_run):
    out, _ = drs_run
    assert sample_follows_run(out, ["--drs", "150"], ["--drs", "0"], 50).shape == (50, 1)
    c = tmp_path / "c.npy"
    code, _, err = run_cli(capsys, "sample", out, "-n", 5, "-o", c, "--drs", "-2")
    assert code == 2 and "drs must be an integer" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "eval", out, "--hpd", "0.5", "--drs", "10")
    assert code == 2 and "choose one sampler" in err and len(err.strip().splitlines()) == 1


def test_drs_on_images_fails_before_training(tmp_path, capsys):
    out = tmp_path / "img"
    code, _, err = run_cli(capsys, "train", "--data", "digits", "--out", out, "--steps", "2", "--set", "eval.drs=10")
    errors = [line for line in err.splitlines() if line.startswith("gankit: error:")]
    assert code == 2 and len(errors) == 1 and "needs a GAN on vector data" in errors[0]
    assert not (out / "checkpoints").exists() or not any((out / "checkpoints").iterdir())


def test_a_failing_drs_keeps_the_trained_run_and_the_generators_metrics(tmp_path, capsys, tiny_overrides):
    # 20 steps: G has barely left its start, almost nothing it draws looks real to the classifier
    out = tmp_path / "run"
    sets = [a for kv in [*tiny_overrides, "eval.drs=150"] for a in ("--set", kv)]
    code, stdout, err = run_cli(capsys, "train", "--out", out, "--json", *sets)
    final = json.loads(stdout)
    drs = final["samplers"]["drs"]
    assert code == 0 and "eval.drs failed" in err and "drs accepted only" in drs["error"]
    assert "w1" not in drs and final["w1"] > 0
    assert json.loads((out / "metrics.json").read_text())["samplers"]["drs"] == drs


def test_vectorised_seeds_score_drs_too(tmp_path, capsys, tiny_overrides):
    out = tmp_path / "seeds"
    sets = [a for kv in [*tiny_overrides, "train.steps=300", "model.g_width=32", "model.d_width=32", "eval.drs=150"]
            for a in ("--set", kv)]
    code, _, err = run_cli(capsys, "train", "--data", "0.5*N(-1,0.5)+0.5*N(1,0.5)", "--seeds", "2", "--out", out, *sets)
    assert code == 0, err
    for s in (0, 1):
        m = json.loads((out / f"seed{s}" / "metrics.json").read_text())
        assert "error" not in m["samplers"]["drs"] and "w1" in m["samplers"]["drs"] and m["samplers"]["drs"]["time"] > 0
    summary = json.loads((out / "summary.json").read_text())
    values = [json.loads((out / f"seed{s}" / "metrics.json").read_text())["samplers"]["drs"]["w1"] for s in (0, 1)]
    assert summary["samplers"]["drs"]["w1"]["values"] == values
