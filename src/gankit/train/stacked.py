"""N MLPs of one architecture as one module: weights stacked along a leading replica axis.

Each linear layer of the N replicas is ``W: (N, out, in)``, ``b: (N, out)`` (from
:func:`torch.func.stack_module_state`), so a layer of all replicas is one batched product
(:func:`torch.baddbmm`); inputs and outputs are ``(N, batch, ...)``. The parameters are views
of one flat tensor (:attr:`StackedMLP.flat`), which the trainer optimises: one optimiser tensor
and one gradient per network. :class:`StackedMLPFunction` is the whole stacked MLP as one
once-differentiable autograd node (public ops only; checked with :func:`torch.autograd.gradcheck`),
used unless a penalty needs double backward: autograd's per-node bookkeeping costs more than
these small products on a CPU. The state helpers cut one replica out of a stacked optimiser's or
weight average's state, or stack the replicas' states.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import GankitError
from ..models.mlp import MLPDiscriminator, MLPGenerator
from ..models.pack import Packed

__all__ = ["StackedMLP", "StackedMLPFunction", "stack_generators", "stack_discriminators", "take_replica",
           "stack_replicas", "replica_optimizer_state", "load_replica_optimizer_states", "copy_hyperparameters"]

#: optimiser settings that pick an implementation, not a hyper-parameter (kept per optimiser)
_IMPL_KEYS = ("params", "fused", "foreach", "capturable", "differentiable")


def _act_backward(act: nn.Module, g: Tensor, a: Tensor | None, h: Tensor, buf: Tensor | None) -> Tensor:
    """``g · act'(a)`` for the output ``h = act(a)``, in place into ``g`` (``buf``: work space, or ``None``).

    Steps are written with ``sign`` (one float kernel) rather than comparisons: multiplying by
    a boolean mask converts it to float first, several times slower on a CPU.
    """
    if isinstance(act, nn.ReLU):  # h ≥ 0: 1 where a > 0, else 0 (autograd's convention at 0)
        return g.mul_(torch.sign(h, out=buf) if buf is not None else torch.sign(h))
    if isinstance(act, nn.Tanh):
        return g.mul_((torch.mul(h, h, out=buf) if buf is not None else h * h).neg_().add_(1.0))
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

    ``apply(x, mlp, flat)``: ``x`` of shape ``(N, batch, in)``, ``mlp`` the :class:`StackedMLP`
    (its layers and work buffers), ``flat`` its :attr:`StackedMLP.flat` weights. Returns the
    output; the backward returns the gradients of ``x`` and of ``flat`` (when needed).

    Hidden activations and the backward's intermediate gradients go into buffers of ``mlp``
    that are reused from call to call: a graph holds them from its forward to its (first)
    backward, a forward made meanwhile uses fresh tensors, and a later backward through the
    same graph (``retain_graph``) raises if another forward has taken the buffers since. The
    output and the gradients are always fresh tensors.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, mlp: StackedMLP, flat: Tensor) -> Tensor:
        ctx.owner = not mlp._live  # the buffers are free: this graph holds them until its backward
        if ctx.owner:
            mlp._live, mlp._generation = True, mlp._generation + 1
        ctx.mlp, ctx.saved, ctx.generation = mlp, [], mlp._generation
        ctx.save_for_backward(flat)  # (autograd's check that the weights did not change before the backward)
        out = mlp._run(x, mlp._weights, "fwd" if ctx.owner else None, ctx.saved)
        return out.squeeze(2) if mlp.out_shape is None else out  # logits (N, batch)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.owner and ctx.generation != ctx.mlp._generation:
            raise RuntimeError("StackedMLPFunction: another forward has reused this graph's activation buffers "
                               "since its first backward; run the forward again")
        (flat,), (need_x, _, need_w), mlp = ctx.saved_tensors, ctx.needs_input_grad, ctx.mlp
        gflat = torch.empty_like(flat) if need_w else None
        grads = mlp.split(gflat) if need_w else []
        if mlp.out_shape is None:
            grad = grad.unsqueeze(2)
        g = grad.contiguous() if isinstance(mlp.ops[-1], int) else grad.clone()  # (activations work in place)
        for i, act, w, skinny, out in mlp._backward_plan(g.shape[0], g.shape[1], ctx.owner):
            saved = ctx.saved[i]
            if act is not None:
                g = _act_backward(act, g, *saved, out)
                continue
            j = 2 * mlp.ops[i]
            if need_w:  # dW = gᵀ h (N, out, batch) @ (N, batch, in), db = Σ g, into the flat gradient
                if skinny:  # few inputs, more outputs: about twice as fast in MKL as the transposed product
                    grads[j].copy_(torch.bmm(saved.transpose(1, 2), g).transpose(1, 2))
                else:
                    torch.bmm(g.transpose(1, 2), saved, out=grads[j])
                torch.sum(g, 1, out=grads[j + 1])
            if i == mlp._first and not need_x:
                break
            if w.shape[1] == 1:  # one output (D's logit): g @ W is an outer product, faster as one multiply
                g = torch.mul(g, w, out=out) if out is not None else g * w
            else:
                g = torch.bmm(g, w, out=out) if out is not None else torch.bmm(g, w)
        if ctx.owner:
            mlp._live = False
        return g if need_x else None, None, gflat


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
        stacked, buffers = torch.func.stack_module_state(nets)
        if buffers:
            raise GankitError(f"--seeds stacks stateless MLP layers; the model has buffers {sorted(buffers)}")
        names = [name for name, _ in nets[0].named_parameters()]  # one replica's order
        #: the trained tensor: every stacked weight, flattened one after the other
        self.flat = torch.cat([stacked[k].detach().reshape(-1) for k in names]).requires_grad_(True)
        self._shapes = [tuple(stacked[k].shape) for k in names]
        self.params = nn.ParameterList(nn.Parameter(v) for v in self.split(self.flat.detach()))
        self._weights = list(self.params)  # plain list: indexing a ParameterList costs microseconds per call
        self.ops: list[nn.Module | int] = []  # a layer index into the stacked weights, or an activation module
        for m in nets[0]:
            if isinstance(m, nn.Linear):
                self.ops.append(sum(isinstance(op, int) for op in self.ops))
            elif any(True for _ in m.parameters()):
                raise GankitError(f"--seeds stacks linear layers and parameter-free activations; got {type(m).__name__}")
            else:
                self.ops.append(m)
        self._first = next(i for i, op in enumerate(self.ops) if isinstance(op, int))
        self._skinny = [w.shape[2] < _SKINNY < w.shape[1] for w in self._weights[::2]]
        self.out_shape, self.scale, self.pack = out_shape, float(scale), int(pack)
        #: use :class:`StackedMLPFunction` (once-differentiable) when every activation has a fast derivative
        self.fast = all(isinstance(op, (int, *FAST_ACTIVATIONS)) for op in self.ops)
        self._bufs: dict[tuple, Tensor] = {}  # work buffers, by ((purpose, op index), shape)
        self._plans: dict[tuple, list[tuple]] = {}  # see _plan
        self._live = False  # whether a fast-path graph holds the "fwd"/"bwd" buffers until its backward
        self._generation = 0  # forwards that took the buffers

    def __getstate__(self) -> dict[str, Any]:  # copies (e.g. a weight average's) leave the work buffers behind
        state = self.__dict__.copy()
        state["_bufs"], state["_plans"], state["_live"] = {}, {}, False
        return state

    def split(self, t: Tensor) -> list[Tensor]:
        """Views of a flat-shaped tensor as the per-layer stacks ``W0 (N, out, in), b0 (N, out), …``."""
        out, o = [], 0
        for shape in self._shapes:
            k = math.prod(shape)
            out.append(t[o:o + k].view(shape))
            o += k
        return out

    def _buffer(self, key: tuple, shape: tuple[int, ...]) -> Tensor:
        t = self._bufs.get((key, shape))
        if t is None:
            t = self._bufs[(key, shape)] = torch.empty(shape, dtype=self.flat.dtype, device=self.flat.device)
        return t

    @torch.no_grad()
    def _plan(self, tag: str, n: int, b: int) -> list[tuple]:
        """The buffered forward for ``n × b`` rows, per op: (kind, fn or bias, Wᵀ, output buffer), views made once."""
        plan = self._plans.get((tag, n, b))
        if plan is None:
            plan, last = [], len(self.ops) - 1
            for i, op in enumerate(self.ops):
                if isinstance(op, int):
                    w, bias = self._weights[2 * op], self._weights[2 * op + 1]
                    out = None if i == last else self._buffer((tag, i), (n, b, w.shape[1]))  # the output is fresh
                    plan.append((0, bias.unsqueeze(1), w.transpose(1, 2), out))
                elif isinstance(op, _IN_PLACE):  # overwrite the product (a buffer; the derivative needs only the output)
                    plan.append((1, torch.relu_ if isinstance(op, nn.ReLU) else torch.tanh_, None, None))
                else:
                    plan.append((2, op, None, None))
            self._plans[(tag, n, b)] = plan
        return plan

    def _backward_plan(self, n: int, b: int, buffered: bool) -> list[tuple]:
        """The backward for ``n × b`` rows, last op first: (op index, activation or None, W, skinny, work buffer)."""
        plan = self._plans.get(("bwd", n, b, buffered))
        if plan is None:
            plan = []
            for i in range(len(self.ops) - 1, -1, -1):
                op = self.ops[i]
                if not isinstance(op, int):
                    width = next(self._weights[2 * o].shape[1] for o in self.ops[i::-1] if isinstance(o, int))
                    plan.append((i, op, None, False, self._buffer(("act", i), (n, b, width)) if buffered else None))
                    continue
                w = self._weights[2 * op]
                out = self._buffer(("bwd", i), (n, b, w.shape[2])) if buffered and i != self._first else None
                plan.append((i, None, w, self._skinny[op], out))  # (the input gradient is a fresh tensor)
            self._plans[("bwd", n, b, buffered)] = plan
        return plan

    def _run(self, h: Tensor, weights: list[Tensor], tag: str | None, saved: list | None = None) -> Tensor:
        """The layers on ``h: (N, batch, in)``; hidden activations into the ``tag`` buffers (fresh if ``None``).

        ``saved`` (fast path) collects per op what its backward needs: a layer's input, or an
        activation's (input, output).
        """
        if tag is None:
            for op in self.ops:
                if isinstance(op, int):
                    if saved is not None:
                        saved.append(h)
                    h = torch.baddbmm(weights[2 * op + 1].unsqueeze(1), h, weights[2 * op].transpose(1, 2))
                else:
                    a, h = h, op(h)
                    if saved is not None:
                        saved.append((a, h))
            return h
        for kind, f, wt, out in self._plan(tag, h.shape[0], h.shape[1]):
            if kind == 0:
                if saved is not None:
                    saved.append(h)
                h = torch.baddbmm(f, h, wt) if out is None else torch.baddbmm(f, h, wt, out=out)  # (N, batch, out)
            else:
                a, h = h, f(h)
                if saved is not None:
                    saved.append((None if kind == 1 else a, h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        """``x: (N, batch, *shape)`` → ``(N, batch, *out_shape)`` or logits ``(N, batch // pack)``."""
        n, b = x.shape[0], x.shape[1] // self.pack
        # packing: a replica's consecutive samples concatenated, as Packed does (no-op reshapes skipped:
        # each would be one more autograd node)
        h = x if x.dim() == 3 and self.pack == 1 else x.reshape(n, b, -1)
        if self.out_shape is None and self.scale != 1.0:
            h = h / self.scale
        if not torch.is_grad_enabled():  # no graph: hidden activations into the "eval" buffers
            h = self._run(h, self._weights, "eval" if self.fast else None)
        elif self.fast:
            h = StackedMLPFunction.apply(h, self, self.flat)
        else:  # plain autograd on views of `flat` (differentiable twice: R1/R2)
            h = self._run(h, self.split(self.flat), None)
        if self.out_shape is None:
            return h if h.dim() == 2 else h.squeeze(2)  # (the fast path squeezes itself)
        h = h if h.shape[2:] == self.out_shape else h.view(n, b, *self.out_shape)
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


# --------------------------------------------------------------------------- states of stacked tensors


def copy_hyperparameters(groups: list[dict[str, Any]], source: list[dict[str, Any]]) -> None:
    """Copy the hyper-parameters (learning rate, betas, ...) of ``source`` param groups into ``groups``."""
    for g, sg in zip(groups, source, strict=True):
        g.update({k: v for k, v in sg.items() if k not in _IMPL_KEYS and k in g})


def replica_optimizer_state(stacked: torch.optim.Optimizer, net: StackedMLP, opt: torch.optim.Optimizer,
                     i: int) -> dict[str, Any]:
    """Replica ``i``'s optimiser state (for ``opt``) out of the optimiser over ``net.flat``."""
    sd = stacked.state_dict()
    flat = sd["state"].get(0)  # (none before the first step)
    state = {}
    if flat is not None:
        parts = {k: net.split(v) for k, v in flat.items() if torch.is_tensor(v) and v.shape == net.flat.shape}
        state = {j: {k: parts[k][j][i].clone() if k in parts else (v.clone() if torch.is_tensor(v) else v)
                     for k, v in flat.items()} for j in range(len(net.split(net.flat)))}
    groups = opt.state_dict()["param_groups"]
    copy_hyperparameters(groups, sd["param_groups"])
    return {"state": state, "param_groups": groups}


def load_replica_optimizer_states(stacked: torch.optim.Optimizer, opts: list[torch.optim.Optimizer]) -> None:
    """Load the replicas' optimiser states (e.g. after a resume) into the optimiser over ``StackedMLP.flat``."""
    sds = [o.state_dict() for o in opts]
    sd = stacked.state_dict()
    copy_hyperparameters(sd["param_groups"], sds[0]["param_groups"])
    per = [sds[0]["state"][j] for j in sorted(sds[0]["state"])]
    if per:
        sd["state"] = {0: {k: torch.cat([torch.stack([s["state"][j][k] for s in sds]).reshape(-1)
                                         for j in range(len(per))]) if torch.is_tensor(v) and v.dim() > 0 else v
                           for k, v in per[0].items()}}
    stacked.load_state_dict(sd)


def _pairs(ref: dict, other: dict) -> list[tuple[Any, Any, Any]]:
    """(key, ref value, other value): by key when the keys agree, else by position (a stacked module's names differ)."""
    if other.keys() == ref.keys():
        return [(k, v, other[k]) for k, v in ref.items()]
    if len(other) != len(ref):
        raise GankitError(f"--seeds cannot match a stacked state of {len(other)} entries to one of {len(ref)}")
    return [(k, v, o) for (k, v), o in zip(ref.items(), other.values(), strict=True)]


def take_replica(ref: Any, stacked: Any, i: int, n: int) -> Any:
    """Replica ``i``'s part of ``stacked`` (a stacked twin's state) in the structure of ``ref`` (the replica's)."""
    if isinstance(ref, dict):
        return {k: take_replica(v, o, i, n) for k, v, o in _pairs(ref, stacked)}
    if isinstance(ref, (list, tuple)):
        return type(ref)(take_replica(v, o, i, n) for v, o in zip(ref, stacked, strict=True))
    if torch.is_tensor(ref):
        return (stacked[i] if stacked.shape == (n, *ref.shape) else stacked).clone()
    return stacked


def stack_replicas(ref: Any, states: list[Any], n: int) -> Any:
    """The replicas' ``states`` stacked in the structure of ``ref`` (the stacked twin's state)."""
    if isinstance(ref, dict):
        per = [_pairs(ref, s) for s in states]
        return {k: stack_replicas(v, [p[j][2] for p in per], n) for j, (k, v, _) in enumerate(per[0])}
    if isinstance(ref, (list, tuple)):
        return type(ref)(stack_replicas(v, [s[j] for s in states], n) for j, v in enumerate(ref))
    if torch.is_tensor(ref):
        return torch.stack(states) if ref.shape == (n, *states[0].shape) else states[0].clone()
    return states[0]
