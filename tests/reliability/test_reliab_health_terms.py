"""The health guard names the term of the objective that went non-finite (f-GAN: E_P[T] or E_Q[f*(T)])."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from reliab_helpers import Attach, tiny_config

import gankit.run.parts as run_mod
from gankit.data.toy import DataSource, ring8
from gankit.run import Run
from gankit.train.health import TrainingDiverged, nonfinite_terms

torch.set_num_threads(1)


class BadBatch(DataSource):
    """ring8 whose real batch of step ``at`` holds ``value`` in one coordinate (reads the trainer's step)."""

    def __init__(self, at: int, value: float) -> None:
        self.inner, self.at, self.value, self.trainer = ring8(), at, value, None
        self.shape, self.centres, self.std, self.name = (2,), self.inner.centres, self.inner.std, "ring8"

    def sample(self, n, generator=None):
        x = self.inner.sample(n, generator)
        if self.trainer is not None and self.trainer.step == self.at - 1:
            x[0, 0] = self.value
        return x


def _diverge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, objective: str, value: float) -> TrainingDiverged:
    cfg = tiny_config(f"objective.name={objective}", "objective.gp_weight=0", "train.checkpoint_every=0",
                      "train.eval_every=0", "train.health_every=5")
    src = BadBatch(at=8, value=value)
    monkeypatch.setattr(run_mod, "make_source", lambda name, **kw: src)
    with pytest.raises(TrainingDiverged) as info:
        Run(cfg, tmp_path / "run").fit(callbacks=[Attach(src)], pictures=False)
    return info.value


def test_a_nan_real_batch_is_named_as_the_real_term(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = _diverge(tmp_path, monkeypatch, "fgan:kl", float("nan"))
    assert (err.step, err.quantity) == (8, "d_loss")
    msg = str(err)
    assert "t_real = nan" in msg and "conj_fake" not in msg and "\n" not in msg
    event = [r for r in map(json.loads, (tmp_path / "run" / "history.jsonl").read_text().splitlines())
             if r.get("event") == "non_finite"]
    assert event and set(event[0]["terms"]) == {"t_real"}


def test_nonfinite_terms_reads_only_the_latest_step_and_skips_losses_and_estimate() -> None:
    class Stub:
        pending = {"d_loss": [torch.tensor(float("nan"))], "estimate": [torch.tensor(float("inf"))],
                   "t_real": [torch.tensor(float("inf")), torch.tensor(1.0)],
                   "conj_fake": [torch.tensor(0.0), torch.tensor(float("inf"))], "r1": [torch.tensor(2.0)]}

    assert nonfinite_terms(Stub()) == {"conj_fake": float("inf")}
