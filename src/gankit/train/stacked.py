"""N MLPs of one architecture as one module: weights stacked along a leading replica axis.

The ``--seeds N`` trainer (:mod:`gankit.train.seeds`) keeps the N replicas' weights of each
linear layer stacked, ``W: (N, out, in)`` and ``b: (N, out)`` (built with
:func:`torch.func.stack_module_state`), so one layer of all N replicas is one batched
product ``y = x Wᵀ + b`` (:func:`torch.baddbmm`) and autograd differentiates the stack
like any module. Inputs and outputs carry the replica axis first: ``(N, batch, ...)``.

The stacked module's parameters come in the order of one replica's ``parameters()``, so
optimiser states and weight averages slice per replica by position.

Fast path. Autograd records some ten nodes per layer (the product, the transposed weight,
the bias broadcast, the activation); on a CPU their bookkeeping costs more than the small
batched products themselves. :class:`StackedMLPFunction` is the whole stacked MLP as one
autograd node: its backward runs the same products (``dW = gᵀ h``, ``db = Σ g``,
``dh = g W``, the activation's derivative) and computes only what autograd asks for (no
weight gradients for a frozen discriminator, no input gradient for data). It is
once-differentiable, so :meth:`StackedMLP.forward` takes it unless ``fast`` is off (the
R1/R2 penalties differentiate the input gradient again). ``tests/train/test_seeds_vectorised.py``
checks it with :func:`torch.autograd.gradcheck`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import GankitError
from ..models.mlp import MLPDiscriminator, MLPGenerator
from ..models.pack import Packed

__all__ = ["StackedMLP", "StackedMLPFunction", "stack_generators", "stack_discriminators"]


def _act_backward(act: nn.Module, g: Tensor, a: Tensor, h: Tensor) -> Tensor:
    """``g · act'(a)`` for the output ``h = act(a)`` (in place into ``g``; ReLU and tanh overwrite ``h``).

    Steps are written with ``sign`` (one float kernel) rather than comparisons: multiplying by
    a boolean mask converts it to float first, several times slower on a CPU.
    """
    if isinstance(act, nn.ReLU):  # (the saved output is used up in place: no allocation)
        return g.mul_(h.sign_())  # h ≥ 0: 1 where a > 0, else 0 (autograd's convention at 0)
    if isinstance(act, nn.Tanh):
        return g.mul_(h.mul_(h).neg_().add_(1.0))
    step = a.sign().clamp_min_(0.0)  # 1 where a > 0, else 0
    if isinstance(act, nn.LeakyReLU):
        return g.mul_(step.mul_(1.0 - act.negative_slope).add_(act.negative_slope))
    if isinstance(act, nn.ELU):  # a ≤ 0: α eᵃ = h + α
        return g.mul_((h + act.alpha).mul_(1.0 - step).add_(step))
    s = torch.sigmoid(a)  # SiLU: (a σ(a))' = σ(a) (1 + a (1 − σ(a)))
    return g.mul_(s * (1.0 + a * (1.0 - s)))


#: activations whose derivative needs only their output (computed in place in the fast path)
_IN_PLACE = (nn.ReLU, nn.Tanh)
#: a layer with fewer inputs than this (and more outputs) runs its backward products transposed
_SKINNY = 8
#: activations with a derivative in :func:`_act_backward`
FAST_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.SiLU)


class StackedMLPFunction(torch.autograd.Function):
    """``h ↦ … act(h Wⱼᵀ + bⱼ) …`` over stacked weights as one autograd node (see the module docstring).

    ``apply(x, ops, *params)``: ``x`` of shape ``(N, batch, in)``, ``ops`` the layer list of a
    :class:`StackedMLP` (layer indices and activation modules), ``params`` ``W0, b0, W1, b1, …``.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, ops: list, *params: Tensor) -> Tensor:
        h, saved = x, []  # saved: per op, its input (a layer) or (pre-activation, output) (an activation)
        for op in ops:
            if isinstance(op, int):
                saved.append(h)
                h = torch.baddbmm(params[2 * op + 1].unsqueeze(1), h, params[2 * op].transpose(1, 2))
            elif isinstance(op, _IN_PLACE):  # the derivative needs only the output: overwrite the product
                h = torch.relu_(h) if isinstance(op, nn.ReLU) else torch.tanh_(h)
                saved.append((None, h))
            else:
                a, h = h, op(h)
                saved.append((a, h))
        ctx.ops, ctx.saved = ops, saved
        ctx.save_for_backward(*params)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.saved is None:
            raise RuntimeError("StackedMLPFunction's backward uses its saved activations up; it runs once per forward")
        params, need = ctx.saved_tensors, ctx.needs_input_grad
        grads: list[Tensor | None] = [None] * len(params)
        g = grad.contiguous() if isinstance(ctx.ops[-1], int) else grad.clone()  # (activations work in place)
        first = min(i for i, op in enumerate(ctx.ops) if isinstance(op, int))
        for i in range(len(ctx.ops) - 1, -1, -1):
            op, saved = ctx.ops[i], ctx.saved[i]
            if not isinstance(op, int):
                g = _act_backward(op, g, *saved)
                continue
            w = params[2 * op]
            # a layer with few inputs and more outputs: its products are several times faster in MKL
            # computed transposed (or on a column-major copy of W); the results are the same
            skinny = w.shape[2] < _SKINNY < w.shape[1]
            if need[2 + 2 * op]:
                grads[2 * op] = (torch.bmm(saved.transpose(1, 2), g).transpose(1, 2) if skinny
                                 else torch.bmm(g.transpose(1, 2), saved))  # (N, out, batch) @ (N, batch, in)
            if need[3 + 2 * op]:
                grads[2 * op + 1] = g.sum(1)
            if i == first and not need[0]:
                break
            if w.shape[1] == 1:  # one output (D's logit): g @ W is an outer product, faster as one multiply
                g = g * w
            else:
                g = torch.bmm(g, w.transpose(1, 2).contiguous().transpose(1, 2) if skinny else w)
        ctx.saved = None
        return (g if need[0] else None, None, *grads)


class StackedMLP(nn.Module):
    """N copies of one ``nn.Sequential`` of linear layers and element-wise activations.

    Parameters
    ----------
    nets : list of nn.Sequential
        The replicas' networks (same architecture); their current weights are copied.
    out_shape : tuple of int or None
        Shape of one output sample (generator), or ``None`` for one logit per input
        (discriminator: the last axis of size 1 is dropped).
    scale : float
        The models' ``scale``: generator outputs are multiplied by it, discriminator inputs
        divided by it (``gankit.models.mlp``).
    pack : int
        The discriminator's pack size (PacGAN, ``gankit.models.pack``): ``pack`` consecutive
        samples of a replica form one input.
    """

    def __init__(self, nets: list[nn.Sequential], out_shape: tuple[int, ...] | None, scale: float = 1.0,
                 pack: int = 1) -> None:
        super().__init__()
        kinds = [tuple(type(m) for m in net) for net in nets]
        if any(k != kinds[0] for k in kinds):
            raise GankitError("--seeds needs replicas of one architecture; the models differ")
        params, buffers = torch.func.stack_module_state(nets)
        if buffers:
            raise GankitError(f"--seeds stacks stateless MLP layers; the model has buffers {sorted(buffers)}")
        # parameter order of one replica (nn.Sequential order), so states slice by position
        self.params = nn.ParameterList(nn.Parameter(params[name].detach().clone()) for name, _ in
                                       nets[0].named_parameters())
        self.ops: list[nn.Module | int] = []  # a layer index into the stacked weights, or an activation module
        j = 0
        for m in nets[0]:
            if isinstance(m, nn.Linear):
                self.ops.append(j)
                j += 1
            elif any(True for _ in m.parameters()):
                raise GankitError(f"--seeds stacks linear layers and parameter-free activations; got {type(m).__name__}")
            else:
                self.ops.append(m)
        self.out_shape, self.scale, self.pack = out_shape, float(scale), int(pack)
        #: use :class:`StackedMLPFunction` (once-differentiable) when every activation has a fast derivative
        self.fast = all(isinstance(op, (int, *FAST_ACTIVATIONS)) for op in self.ops)
        self._weights = list(self.params)  # plain list: indexing a ParameterList costs microseconds per call

    def forward(self, x: Tensor) -> Tensor:
        """``x: (N, batch, *shape)`` → ``(N, batch, *out_shape)`` or logits ``(N, batch // pack)``."""
        n, b = x.shape[0], x.shape[1] // self.pack
        h = x.reshape(n, b, -1)  # packing: a replica's consecutive samples concatenated, as Packed does
        if self.out_shape is None and self.scale != 1.0:
            h = h / self.scale
        p = self._weights
        if self.fast and torch.is_grad_enabled():
            h = StackedMLPFunction.apply(h, self.ops, *p)
        else:
            for op in self.ops:
                if isinstance(op, int):
                    h = torch.baddbmm(p[2 * op + 1].unsqueeze(1), h, p[2 * op].transpose(1, 2))  # (N, batch, out)
                else:
                    h = op(h)
        if self.out_shape is None:
            return h.squeeze(2)
        h = h.view(n, b, *self.out_shape)
        return h * self.scale if self.scale != 1.0 else h


def stack_generators(Gs: list[nn.Module]) -> StackedMLP:
    """The replicas' :class:`~gankit.models.mlp.MLPGenerator` s as one :class:`StackedMLP` (with ``latent_dim``)."""
    if not all(type(G) is MLPGenerator for G in Gs):
        raise GankitError(f"--seeds stacks MLP generators; got {type(Gs[0]).__name__}")
    st = StackedMLP([G.net for G in Gs], tuple(Gs[0].data_shape), Gs[0].scale)
    st.latent_dim = Gs[0].latent_dim
    st.data_shape = tuple(Gs[0].data_shape)
    return st


def stack_discriminators(Ds: list[nn.Module]) -> StackedMLP:
    """The replicas' (packed) :class:`~gankit.models.mlp.MLPDiscriminator` s as one :class:`StackedMLP`."""
    packs = {D.pack if isinstance(D, Packed) else 1 for D in Ds}
    inner = [D.inner if isinstance(D, Packed) else D for D in Ds]
    if not all(type(D) is MLPDiscriminator for D in inner) or len(packs) != 1:
        raise GankitError(f"--seeds stacks (packed) MLP discriminators; got {type(Ds[0]).__name__}")
    st = StackedMLP([D.net for D in inner], None, inner[0].scale, packs.pop())
    st.in_features = math.prod(inner[0].data_shape)
    return st
