"""PacGAN packing: shapes, equivalence with the plain discriminator at m = 1, training."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from torch import nn

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.models.mlp import MLPDiscriminator
from gankit.models.pack import Packed, packed_shape
from gankit.run import Run, build
from gankit.train.trainer import Trainer

torch.set_num_threads(1)


def test_packed_shape_vectors_and_images():
    assert packed_shape((2,), 4) == (8,)
    assert packed_shape((3, 8, 8), 2) == (6, 8, 8)
    with pytest.raises(GankitError, match="pack"):
        packed_shape((2,), 0)


def test_pack_one_is_the_plain_discriminator():
    torch.manual_seed(0)
    inner = MLPDiscriminator((2,), 16, 2)
    x = torch.randn(10, 2)
    assert torch.equal(Packed(inner, 1)(x), inner(x))


def test_packed_mlp_concatenates_consecutive_samples():
    torch.manual_seed(0)
    inner = MLPDiscriminator((6,), 16, 2)
    D = Packed(inner, 3)
    x = torch.randn(12, 2)
    out = D(x)
    assert out.shape == (4,)
    manual = inner(torch.cat([x[0::3], x[1::3], x[2::3]], dim=1))  # pack i = samples 3i, 3i+1, 3i+2
    assert torch.allclose(out, manual, atol=1e-6)
    assert torch.allclose(D.single(x[:2]), inner(x[:2].repeat(1, 3)), atol=1e-6)
    with pytest.raises(ValueError, match="multiple of 3"):
        D(torch.randn(10, 2))


def test_packed_conv_concatenates_channels():
    inner = nn.Sequential(nn.Conv2d(2 * 3, 4, 3), nn.Flatten(), nn.LazyLinear(1), nn.Flatten(0))
    D = Packed(inner, 2)
    x = torch.randn(8, 3, 5, 5)
    out = D(x)
    assert out.shape == (4,)
    assert torch.allclose(out, inner(torch.cat([x[0::2], x[1::2]], dim=1)), atol=1e-6)


def _cfg(*extra: str) -> RunConfig:
    return apply_overrides(RunConfig(), ["model.g_width=16", "model.d_width=16", "model.g_depth=2", "model.d_depth=2",
                                         "train.batch_size=8", "train.steps=5", "train.progress=false", *extra])


def test_trainer_with_pack_one_wrapper_matches_plain_training():
    cfg = _cfg("model.pack=1")
    runs = []
    for wrap in (False, True):
        b = build(cfg)
        assert not isinstance(b.D, Packed)  # pack = 1 builds the plain discriminator
        D = Packed(b.D, 1) if wrap else b.D
        Trainer(b.G, D, b.objective, b.source, cfg.train).fit()
        runs.append(copy.deepcopy(b.G.state_dict()))
    for k in runs[0]:
        assert torch.equal(runs[0][k], runs[1][k]), k


def test_packed_trainer_draws_m_times_the_batch():
    cfg = _cfg("model.pack=4")
    b = build(cfg)
    assert isinstance(b.D, Packed) and b.D.pack == 4
    seen = []
    orig = b.source.sample
    b.source.sample = lambda n, gen=None: (seen.append(n), orig(n, gen))[1]
    Trainer(b.G, b.D, b.objective, b.source, cfg.train).fit()
    assert seen and all(n == 32 for n in seen)


def test_short_packed_run_with_r1_and_ema(tmp_path):
    cfg = _cfg("model.pack=2", "objective.r1=1.0", "train.ema=0.9", "train.lr_schedule=cosine", "train.steps=20",
               "eval.n_samples=200", "eval.w1_samples=100")
    final = Run(cfg, tmp_path / "run").fit(progress=False, pictures=False)
    assert {"modes", "high_quality", "reverse_kl", "w1"} <= set(final)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["step"] == 20
    loaded = Run.load(tmp_path / "run")
    built, state = loaded.parts, loaded.state
    assert "G_ema" in state and isinstance(built.D, Packed)
    # sampling and scoring use the averaged generator
    for k, v in built.G.state_dict().items():
        assert torch.equal(v, state["G_ema"]["model"][k])
    assert any(not torch.equal(state["G"][k], state["G_ema"]["model"][k]) for k in state["G"])
