"""f-GAN training runs for every divergence, logs its variational bound, and stops on NaN."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.divergences import divergence_names
from gankit.errors import GankitError, TrainingDiverged
from gankit.objectives import make_objective
from gankit.run import Run, build
from gankit.train.callbacks import History
from gankit.train.trainer import Trainer

DIVERGENCES = divergence_names() + ["alpha:0.5", "alpha:2", "alpha:-1"]
SMALL = {
    "train.steps": 20, "train.batch_size": 64, "train.eval_every": 10, "train.checkpoint_every": 0,
    "train.progress": False, "model.g_width": 16, "model.d_width": 16, "model.g_depth": 1, "model.d_depth": 1,
    "eval.n_samples": 100, "eval.w1_samples": 50,
}


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("data", ["0.3*N(-2,0.5) + 0.7*N(1,1)", "ring8"])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_fgan_trains_on_toy_data(tmp_path, name, data):
    cfg = apply_overrides(RunConfig(), {**SMALL, "data.name": data, "objective.name": f"fgan:{name}"})
    final = Run(cfg, tmp_path / "run").fit(pictures=False)
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == [10, 20]
    for rec in history:
        for key in ("d_loss", "g_loss", "estimate"):
            assert isinstance(rec[key], float) and math.isfinite(rec[key]), (key, rec)
        # the logged estimate is the variational bound, i.e. minus the discriminator loss
        assert rec["estimate"] == pytest.approx(-rec["d_loss"], rel=1e-5, abs=1e-6)
    assert final["objective"] == f"fgan:{name}"


@pytest.mark.parametrize("kind", ["nonsaturating", "saturating"])
def test_generator_loss_option_selects_the_loss(kind):
    obj = make_objective(apply_overrides(RunConfig(), {"objective.name": "fgan:kl",
                                                       "objective.generator_loss": kind}).objective)
    D = torch.nn.Identity()
    v = torch.tensor([0.5, -1.0])
    expected = -(v.exp() / math.e).mean() if kind == "saturating" else -v.mean()  # −E f*(v) / −E g_f(v)
    assert torch.allclose(obj.generator_loss(D, v), expected)


def test_generator_loss_option_is_validated():
    with pytest.raises(GankitError, match="objective.generator_loss must be one of nonsaturating, saturating"):
        apply_overrides(RunConfig(), {"objective.generator_loss": "sideways"})


def test_nan_loss_stops_the_run_with_step_and_loss():
    cfg = apply_overrides(RunConfig(), {**SMALL, "data.name": "N(0,1)", "objective.name": "fgan:kl"})
    b = build(cfg)
    calls = {"n": 0}
    real_loss = b.objective.g_loss_fn

    def poisoned(fake_logits):
        calls["n"] += 1
        out = real_loss(fake_logits)
        return out * math.nan if calls["n"] == 7 else out

    b.objective.g_loss_fn = poisoned
    trainer = Trainer(b.G, b.D, b.objective, b.source, cfg.train, [History(10)])
    with pytest.raises(TrainingDiverged, match=r"g_loss is nan at step 7") as info:
        trainer.fit()
    assert info.value.step == 7 and info.value.loss == "g_loss"
    assert isinstance(info.value, GankitError)
