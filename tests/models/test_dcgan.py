"""DCGAN generator/discriminator: shapes for every supported size and channel count, and gradients
through every registered objective."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)  # 2 shared cores: no thread oversubscription

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.models import DCGANDiscriminator, DCGANGenerator, resolve_model_name
from gankit.models.dcgan import stages_for
from gankit.objectives import make_objective
from gankit.registry import MODELS, OBJECTIVES

SHAPES = [(c, s, s) for s in (8, 28, 32, 64) for c in (1, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_shapes(shape):
    torch.manual_seed(0)
    G, D = MODELS.get("dcgan")(ModelConfig(latent_dim=8, channels=4), shape)
    assert G.latent_dim == 8
    x = G(torch.randn(3, 8))
    assert tuple(x.shape) == (3, *shape)
    assert float(x.detach().abs().max()) <= 1.0  # tanh output, the range of the image data
    logits = D(x)
    assert tuple(logits.shape) == (3,)


def test_stage_counts():
    assert [stages_for((1, h, h)) for h in (8, 28, 32, 64)] == [(4, 1), (7, 2), (4, 3), (4, 4)]
    # the generator's first feature map is s0 x s0 with channels * 2^k channels
    G = DCGANGenerator(4, (1, 28, 28), channels=4)
    assert (G.s0, G.top) == (7, 16)


def test_bad_shapes_are_gankit_errors():
    with pytest.raises(GankitError, match="square"):
        DCGANGenerator(4, (1, 8, 16))
    with pytest.raises(GankitError, match="mlp"):
        DCGANDiscriminator((2,))


def test_auto_model_name():
    assert resolve_model_name("auto", (1, 8, 8)) == "dcgan"
    assert resolve_model_name("auto", (2,)) == "mlp"
    assert resolve_model_name("mlp", (1, 8, 8)) == "mlp"


def _objective_names() -> list[str]:
    """Every registered objective; every divergence for the fgan family."""
    from gankit.divergences import divergence_names

    entries = list(OBJECTIVES.entries())
    names = [e.name for e in entries if not e.family]
    if any(e.family and e.name == "fgan" for e in entries):
        names += [f"fgan:{d}" for d in divergence_names()]
    return names


@pytest.mark.parametrize("name", _objective_names())
def test_every_objective_backprops(name):
    from gankit.config import ObjectiveConfig

    torch.manual_seed(0)
    shape = (1, 8, 8)
    G, D = MODELS.get("dcgan")(ModelConfig(latent_dim=4, channels=4), shape)
    obj = make_objective(ObjectiveConfig(name=name))
    real = torch.rand(6, *shape) * 2 - 1
    fake = G(torch.randn(6, 4))
    d_loss, _ = obj.discriminator_loss(D, real, fake.detach())
    d_loss.backward()
    assert torch.isfinite(d_loss)
    grads = [p.grad for p in D.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
    g_loss = obj.generator_loss(D, fake)
    g_loss.backward()
    assert torch.isfinite(g_loss)
    g_grads = [p.grad for p in G.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in g_grads)
    assert any(float(g.abs().sum()) > 0 for g in g_grads)
