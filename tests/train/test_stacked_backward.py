"""StackedMLP's hand-written forward/backward (the ``--seeds`` fast path) equals autograd."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.models.mlp import ACTIVATIONS, MLPDiscriminator, MLPGenerator
from gankit.train.stacked import StackedMLP, activation_ops


def _stack(kind: str, act: str, n: int = 3) -> StackedMLP:
    torch.manual_seed(0)
    if kind == "G":
        nets = [MLPGenerator(4, (2,), width=16, depth=2, activation=act).net for _ in range(n)]
        return StackedMLP(nets, (2,)).double()
    nets = [MLPDiscriminator((2,), width=16, depth=2, activation=act).net for _ in range(n)]
    return StackedMLP(nets, None).double()


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
@pytest.mark.parametrize("kind", ["G", "D"])
def test_run_and_backward_equal_autograd(act, kind):
    m = _stack(kind, act)
    x = torch.randn(3, 5, 4 if kind == "G" else 2, dtype=torch.float64)
    # the reference: the autograd forward, and replica 0 against its own nn.Sequential
    xr = x.clone().requires_grad_()
    ref = m(xr)
    up = torch.randn_like(ref)
    grads = torch.autograd.grad((ref * up).sum(), [xr, *m.params])
    out = m.run(x, "t")
    assert torch.allclose(out, ref, atol=1e-12, rtol=0)
    dx = m.backward_from(up, "t", param_grads=True, input_grad=True)
    assert dx.shape == x.shape
    assert torch.allclose(dx, grads[0], atol=1e-12, rtol=0)
    for p, g in zip(m.params, grads[1:], strict=True):
        assert p.grad.shape == p.shape and p.grad.is_contiguous()
        assert torch.allclose(p.grad, g, atol=1e-12, rtol=0)
    # frozen parameters: input gradient only, .grad untouched
    before = [p.grad.clone() for p in m.params]
    dx2 = m.backward_from(2 * up, "t", param_grads=False, input_grad=True)
    assert torch.allclose(dx2, 2 * grads[0], atol=1e-12, rtol=0)
    assert all(torch.equal(p.grad, b) for p, b in zip(m.params, before, strict=True))
    # no input gradient asked for: None, and the parameter gradients are overwritten (not added)
    assert m.backward_from(up, "t", param_grads=True, input_grad=False) is None
    for p, g in zip(m.params, grads[1:], strict=True):
        assert torch.allclose(p.grad, g, atol=1e-12, rtol=0)
    # one replica is one nn.Sequential
    net = (MLPGenerator(4, (2,), 16, 2, act) if kind == "G" else MLPDiscriminator((2,), 16, 2, act)).net.double()
    m.copy_to(1, net)
    assert torch.allclose(net(x[1]).reshape(out[1].shape), out[1], atol=1e-12, rtol=0)


def test_buffers_reused_per_tag():
    m = _stack("D", "relu")
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    a = m.run(x, "t")
    b = m.run(x + 1, "u")  # another tag keeps its own buffers
    assert a.data_ptr() != b.data_ptr()
    c = m.run(x, "t")  # same tag: the same buffer, overwritten
    assert c.data_ptr() == a.data_ptr() and torch.allclose(c, m(x), atol=1e-12, rtol=0)


def test_unsupported_activation_refused():
    with pytest.raises(GankitError, match="--seeds supports the activations"):
        activation_ops(nn.Softplus())


def test_functional_adam_step_equals_optimizer_step():
    from dataclasses import replace

    from gankit.config import RunConfig, apply_overrides
    from gankit.train.run import build
    from gankit.train.seeds import VectorisedTrainer
    from gankit.train.trainer import Trainer

    cfg = apply_overrides(RunConfig(), ["model.g_width=8", "model.d_width=8", "train.batch_size=8"])

    def vt() -> VectorisedTrainer:
        reps = []
        for i in range(2):
            c = replace(cfg, train=replace(cfg.train, seed=i))
            b = build(c)
            reps.append(Trainer(b.G, b.D, b.objective, b.source, c.train))
        return VectorisedTrainer(reps)

    fast, slow = vt(), vt()
    slow._step_g, slow._step_d = slow.opt_g.step, slow.opt_d.step
    for _ in range(4):
        fast.train_step()
        slow.train_step()
    assert fast._step_g._args is not None and fast._step_d._args is not None  # the functional path ran
    for a, b in zip([*fast.G.parameters(), *fast.D.parameters()], [*slow.G.parameters(), *slow.D.parameters()],
                    strict=True):
        assert torch.equal(a, b)
    sa, sb = fast.opt_d.state_dict()["state"], slow.opt_d.state_dict()["state"]
    assert all(torch.equal(sa[k][n], sb[k][n]) for k in sb for n in sb[k])
    assert float(sa[0]["step"]) == 4.0
