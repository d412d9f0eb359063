"""model.scale: G outputs s·net(z), D sees x/s; s = 1 is the plain MLP."""

from __future__ import annotations

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.errors import GankitError
from gankit.models.mlp import MLPDiscriminator, MLPGenerator


def test_scale_multiplies_outputs_and_divides_inputs():
    torch.manual_seed(0)
    g1, g3 = MLPGenerator(2, (2,), 16, 2), MLPGenerator(2, (2,), 16, 2, scale=3.0)
    g3.load_state_dict(g1.state_dict())
    z = torch.randn(5, 2)
    assert torch.allclose(g3(z), 3.0 * g1(z), atol=1e-6)
    d1, d3 = MLPDiscriminator((2,), 16, 2), MLPDiscriminator((2,), 16, 2, scale=3.0)
    d3.load_state_dict(d1.state_dict())
    x = torch.randn(5, 2)
    assert torch.allclose(d3(3.0 * x), d1(x), atol=1e-6)


def test_scale_validation():
    assert apply_overrides(RunConfig(), ["model.scale=2.83"]).model.scale == pytest.approx(2.83)
    with pytest.raises(GankitError, match="model.scale"):
        apply_overrides(RunConfig(), ["model.scale=0"])
