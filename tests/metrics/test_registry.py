"""Metrics from the registry: which metrics apply to which data, the stateful protocol of every
registered metric, evaluate() running what applies (a new registration included), and the values
against independent references (POT's exact transport, the pure functions)."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import ot
import pytest
import torch

import gankit.metrics.base as base
from gankit.data.arrays import ArraySource
from gankit.data.image_dataset import ImageDataset
from gankit.data.toy import make_source, parse_mixture
from gankit.errors import GankitError
from gankit.metrics import EvalData, Metric, metric_classes, mode_coverage, score
from gankit.metrics.evaluate import evaluate, score_samples
from gankit.metrics.w1 import ExactW1
from gankit.models.mlp import MLPGenerator
from gankit.registry import METRICS, Registry

IMAGE = {"n_samples", "frechet", "kid", "classes", "precision_recall", "parzen"}


def _names(data: EvalData) -> set[str]:
    by_class = {e.obj: e.name for e in METRICS.entries()}
    return {by_class[cls] for cls in metric_classes() if cls.applies(data)}


def test_every_registered_metric_has_help_and_the_protocol():
    classes = metric_classes()
    assert {"modes", "w1"} | IMAGE <= {e.name for e in METRICS.entries() if e.obj in classes}
    for e in METRICS.entries():
        if e.obj in classes:
            assert e.help.strip(), e.name
            assert e.obj.higher_is_better and all(v in (True, False, None) for v in e.obj.higher_is_better.values())
            assert not getattr(e.obj, "__abstractmethods__", None), e.name


def test_which_metrics_apply_to_which_data(digits):
    train, test = digits
    cases = {
        "ring8": (EvalData(make_source("ring8")), {"modes", "w1"}),
        "grid25": (EvalData(make_source("grid25")), {"modes", "w1"}),
        "spiral (no modes)": (EvalData(make_source("spiral")), {"w1"}),
        "1-D mixture, unequal stds": (EvalData(parse_mixture("0.3*N(-2,0.2)+0.7*N(1,0.6)")), {"modes", "w1"}),
        "5-D table": (EvalData(ArraySource(torch.zeros(10, 5))), {"w1"}),
        "80-D table": (EvalData(ArraySource(torch.zeros(10, 80))), set()),
        "digits": (EvalData(train, test), IMAGE),
        "digits, no test split": (EvalData(train), IMAGE),
        "unlabelled images": (EvalData(ImageDataset(train.images[:20])), {"n_samples", "parzen"}),
    }
    for label, (data, expected) in cases.items():
        assert _names(data) == expected, label


def _chunked(metric: Metric, x: torch.Tensor, size: int) -> dict:
    for chunk in x.split(size):
        metric.update(chunk)
    return metric.compute()


def _assert_same(a: dict, b: dict, rel: float = 0.0) -> None:
    assert list(a) == list(b)
    for k in a:
        if isinstance(a[k], float):
            assert a[k] == pytest.approx(b[k], rel=rel, abs=0.0, nan_ok=True), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("name", ["ring8", "0.5*N(-1,0.5)+0.5*N(1,0.5)"])
def test_vector_metrics_are_stateful(name):
    """Chunked updates equal one update; reset forgets; keys are those of higher_is_better."""
    src = make_source(name) if name == "ring8" else parse_mixture(name)
    data = EvalData(src, seed=3, w1_samples=300)
    x = src.sample(700, torch.Generator().manual_seed(1)) * 1.05
    for cls in metric_classes():
        if not cls.applies(data):
            continue
        one = cls.from_data(data)
        one.update(x)
        whole = one.compute()
        assert set(whole) == set(cls.higher_is_better)
        chunked = cls.from_data(data)
        _assert_same(_chunked(chunked, x, 137), whole)
        chunked.reset()
        chunked.update(x)
        _assert_same(chunked.compute(), whole)


def test_image_metrics_are_stateful(digits, quick_recipe):
    train, test = digits
    data = EvalData(train, test, seed=5)
    fake = torch.cat([train.images[:200], test.images[:100]])
    for cls in metric_classes():
        if not cls.applies(data):
            continue
        one = cls.from_data(data)
        one.update(fake)
        whole = one.compute()
        assert set(whole) == set(cls.higher_is_better), cls.__name__
        # features of smaller batches may round differently in the last bits of float32 convolutions
        _assert_same(_chunked(cls.from_data(data), fake, 64), whole, rel=1e-6)


def test_w1_against_pot_and_mode_coverage_against_its_function():
    """score_samples on ring8: W1 equals POT's exact transport cost on the same draws, the mode
    metrics equal mode_coverage; and only the first w1_samples generated samples are used."""
    src = make_source("ring8")
    fake = src.sample(500, torch.Generator().manual_seed(9)) + 0.02
    out = score_samples(fake, src, 300, 5, None)
    real = src.sample(300, torch.Generator().manual_seed(6)).double().numpy()
    f = fake[:300].double().numpy()
    cost = ot.emd2(np.full(300, 1 / 300), np.full(300, 1 / 300), ot.dist(f, real, metric="euclidean"))
    assert out["w1"] == pytest.approx(cost, rel=1e-9)
    assert {k: out[k] for k in ("modes", "high_quality", "reverse_kl")} == mode_coverage(
        fake, src.centres, torch.as_tensor(src.std))
    assert list(out) == ["modes", "high_quality", "reverse_kl", "w1"]


def test_exact_w1_keeps_only_its_first_samples_and_refuses_none():
    m = ExactW1(torch.tensor([[0.0], [1.0]]), n_fake=2)
    with pytest.raises(GankitError, match="at least one generated sample"):
        m.compute()
    m.update(torch.tensor([[0.0]]))
    m.update(torch.tensor([[1.0], [50.0]]))  # 50 is the third sample: ignored
    assert m.compute() == {"w1": 0.0}


def test_a_new_registration_is_run_by_evaluate(monkeypatch):
    """Adding a metric is a registration: evaluate() runs it where it applies, in its order."""

    class MeanNorm(Metric):
        higher_is_better = {"mean_norm": None}
        order = 1000

        @classmethod
        def applies(cls, data):
            return len(data.source.shape) == 1

        @classmethod
        def from_data(cls, data):
            return cls()

        def reset(self):
            self.total, self.n = 0.0, 0

        def __init__(self):
            self.reset()

        def update(self, fake):
            self.total += float(fake.flatten(1).norm(dim=1).sum())
            self.n += len(fake)

        def compute(self):
            return {"mean_norm": self.total / self.n}

    registry = Registry("metric")
    for e in METRICS.entries():
        registry.add(e.name, e.obj, help=e.help)
    registry.add("mean_norm", MeanNorm, help="mean norm")
    torch.manual_seed(0)
    G = MLPGenerator(2, (2,), width=16, depth=1)
    before = evaluate(G, make_source("ring8"), 400, 200, 1)
    monkeypatch.setattr(base, "METRICS", registry)
    after = evaluate(G, make_source("ring8"), 400, 200, 1)
    with torch.no_grad():
        x = G.eval()(torch.randn(400, 2, generator=torch.Generator().manual_seed(1)))
    assert list(after) == [*before, "mean_norm"]
    _assert_same({k: after[k] for k in before}, before)
    assert after["mean_norm"] == pytest.approx(float(x.norm(dim=1).mean()), rel=1e-6)
    assert "mean_norm" not in score(torch.zeros(5, 1, 2, 2), EvalData(ArraySource(torch.zeros(3, 1, 2, 2))))


def test_sampling_does_not_import_metrics():
    code = "import sys, gankit.sampling; print(any(m.startswith('gankit.metrics') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["base", "count", "w1", "modes", "classes", "frechet", "parzen",
                                    "precision_recall"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"gankit.metrics.{module}")
    assert doctest.testmod(mod).failed == 0
