"""Conditional models: shapes, the for_class protocol, the joint (sample, one-hot class), the projection formula."""

import pytest
import torch

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.models.conditional import (
    ACGANDiscriminator,
    ProjectionDiscriminator,
    attach_labels,
    make_conditional,
    split_labels,
)
from gankit.models.dcgan import make_dcgan
from gankit.models.mlp import make_mlp
from gankit.sampling import class_generator, generate, is_conditional

MLP = ModelConfig(latent_dim=2, g_width=16, g_depth=2, d_width=16, d_depth=2)
DC = ModelConfig(latent_dim=8, channels=4)


@pytest.mark.parametrize("kind", ["projection", "acgan"])
@pytest.mark.parametrize("make,cfg,shape", [(make_mlp, MLP, (2,)), (make_dcgan, DC, (1, 8, 8))])
def test_shapes_and_for_class(kind, make, cfg, shape):
    torch.manual_seed(0)
    G, D = make_conditional(kind, make, cfg, shape, 5)
    assert is_conditional(G) and G.num_classes == 5 and G.latent_dim == cfg.latent_dim
    z, y = torch.randn(6, cfg.latent_dim), torch.tensor([0, 1, 2, 3, 4, 0])
    x = G(z, y)
    assert tuple(x.shape) == (6, *shape)
    assert tuple(D(attach_labels(x, y, 5)).shape) == (6,)
    assert tuple(D(x).shape) == (6,)  # a plain sample: judged under the uniform mixture of classes
    G3 = class_generator(G, 3)
    assert G3.latent_dim == cfg.latent_dim
    G.eval()
    torch.testing.assert_close(G3(z), G(z, torch.full((6,), 3)))
    assert not torch.allclose(G3(z), class_generator(G, 1)(z))  # the class changes the sample
    assert tuple(generate(G3, 7, seed=0).shape) == (7, *shape)
    if kind == "acgan":
        assert isinstance(D, ACGANDiscriminator) and tuple(D.class_logits(x).shape) == (6, 5)


def test_plain_forward_cycles_through_the_classes():
    torch.manual_seed(0)
    G, _ = make_conditional("projection", make_mlp, MLP, (2,), 3)
    z = torch.randn(5, 2)
    torch.testing.assert_close(G(z), G(z, torch.tensor([0, 1, 2, 0, 1])))


def test_projection_equals_psi_plus_embedding_dot_features():
    torch.manual_seed(0)
    _, D = make_conditional("projection", make_mlp, MLP, (2,), 4)
    assert isinstance(D, ProjectionDiscriminator)
    x, y = torch.randn(3, 2), torch.tensor([2, 0, 3])
    h = D.features(x)
    want = D.head(h).squeeze(1) + (D.embed.weight.T[y] * h).sum(1)  # ψ(φ(x)) + E_y · φ(x)
    torch.testing.assert_close(D(attach_labels(x, y, 4)), want)


def test_joint_split_round_trip_and_label_part_gets_no_gradient():
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([1, 0, 2, 1])
    xy = attach_labels(x, y, 3)
    assert tuple(xy.shape) == (4, 64 + 3)
    back, onehot = split_labels(xy, (1, 8, 8), 3)
    torch.testing.assert_close(back, x)
    torch.testing.assert_close(onehot.argmax(1), y)
    torch.manual_seed(0)
    _, D = make_conditional("projection", make_dcgan, DC, (1, 8, 8), 3)
    xy = xy.requires_grad_(True)
    (g,) = torch.autograd.grad(D(xy).sum(), xy)
    assert g[:, :64].abs().sum() > 0 and g[:, 64:].abs().sum() == 0  # penalties see the sample alone


def test_state_dict_round_trip():
    torch.manual_seed(0)
    G, D = make_conditional("acgan", make_mlp, MLP, (2,), 4)
    torch.manual_seed(1)
    G2, D2 = make_conditional("acgan", make_mlp, MLP, (2,), 4)
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    z, y = torch.randn(3, 2), torch.tensor([0, 3, 1])
    torch.testing.assert_close(G2(z, y), G(z, y))
    torch.testing.assert_close(D2.class_logits(G(z, y)), D.class_logits(G(z, y)))


def test_bad_class_refused():
    G, _ = make_conditional("projection", make_mlp, MLP, (2,), 4)
    with pytest.raises(GankitError, match=r"\[0, 3\]"):
        class_generator(G, 4)
    with pytest.raises(GankitError, match="classes"):
        make_conditional("projection", make_mlp, MLP, (2,), 0)
