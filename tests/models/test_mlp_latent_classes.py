"""model.latent_classes: a discrete latent code beside the Gaussian z (MLP generator)."""

from __future__ import annotations

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.models.mlp import MLPGenerator
from gankit.train.run import build


def test_the_code_is_uniform_and_a_function_of_the_last_coordinate() -> None:
    K = 7
    G = MLPGenerator(2, (2,), width=8, depth=1, classes=K)
    assert G.latent_dim == 3  # 2 Gaussian coordinates + the one that picks the class
    z = torch.randn(200_000, 3, generator=torch.Generator().manual_seed(0))
    c = G.code(z)
    assert c.min() == 0 and c.max() == K - 1
    freq = torch.bincount(c, minlength=K).double() / len(c)
    se = (1 / K * (1 - 1 / K) / len(c)) ** 0.5
    assert (freq - 1 / K).abs().max() < 5 * se  # uniform to sampling error
    # thresholds are the K-quantiles of N(0, 1): the class changes exactly there
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor([1 / K, 2 / K]))
    edge = torch.tensor([[0.0, 0.0, q[0] - 1e-4], [0.0, 0.0, q[0] + 1e-4], [0.0, 0.0, q[1] + 1e-4]])
    assert G.code(edge).tolist() == [0, 1, 2]


def test_the_network_sees_z_and_a_one_hot_class() -> None:
    torch.manual_seed(0)
    G = MLPGenerator(2, (2,), width=16, depth=2, classes=4)
    first = G.net[0]
    assert first.in_features == 2 + 4
    z = torch.randn(5, 3)
    onehot = torch.nn.functional.one_hot(G.code(z), 4).float()
    expect = G.net(torch.cat([z[:, :2], onehot], 1))
    assert torch.allclose(G(z), expect)
    # two latents that differ only inside one class's interval give the same class
    z2 = z.clone()
    z2[:, 2] += 1e-6
    assert torch.equal(G.code(z), G.code(z2))


def test_off_by_default_and_trains_through_build() -> None:
    cfg = apply_overrides(RunConfig(), {"model.latent_classes": 5, "model.g_width": 8, "model.d_width": 8})
    b = build(cfg)
    assert b.G.classes == 5 and b.G.latent_dim == cfg.model.latent_dim + 1
    assert build(RunConfig()).G.latent_dim == RunConfig().model.latent_dim


@pytest.mark.parametrize("bad", ["-1", "5000"])
def test_bad_values_are_refused_in_one_line(bad: str) -> None:
    with pytest.raises(GankitError, match="model.latent_classes must be in"):
        apply_overrides(RunConfig(), [f"model.latent_classes={bad}"])


def test_other_models_refuse_it() -> None:
    cfg = apply_overrides(RunConfig(), {"data.name": "digits", "model.name": "dcgan", "model.latent_classes": 10})
    with pytest.raises(GankitError, match="option of model mlp"):
        build(cfg)
