"""N MLPs with stacked weights: batched forward and a hand-written backward into reused buffers.

The ``--seeds N`` trainer (:mod:`gankit.train.seeds`) keeps the N replicas' weights of each
linear layer stacked, ``W: (N, out, in)`` and ``b: (N, out)``, so one layer of all N
replicas is one batched product ``y = x Wᵀ + b`` (``torch.baddbmm``).

:meth:`StackedMLP.forward` is the plain autograd version. :meth:`StackedMLP.run` and
:meth:`StackedMLP.backward_from` are the fast path the trainer uses: the forward writes
every activation into a buffer that is allocated once per call site (``tag``) and reused at
every step, and the backward is written out by hand (for layer ``j`` with input ``h_j`` and
upstream gradient ``g``: ``dW_j = gᵀ h_j``, ``db_j = Σ_batch g``, ``dh_j = g W_j`` and the
activation's derivative, with the ATen backward kernels autograd itself calls). It computes
only what is asked for — no weight gradients for a frozen discriminator, no gradient for an
input that needs none — which is what autograd does, without its per-node bookkeeping,
without fresh allocations (on a CPU each fresh multi-megabyte tensor costs page faults) and
with weight gradients written straight into ``.grad`` in the parameters' layout (autograd
produces the transpose of ``W``'s gradient and copies it). The result equals autograd's to
float rounding (``tests/train/test_stacked_backward.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..errors import GankitError

__all__ = ["StackedMLP"]

_A = torch.ops.aten
#: forward(a, h) -> activation of a (in place into a, or into h); backward(g, a, h) -> g · act'(a),
#: written into g; in_place: whether the forward overwrites a (the backward then reads only h).
#: layers with fewer inputs than this (and more outputs) get the transposed products in the backward
_SKINNY = 8
ActOps = tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor, Tensor, Tensor], Tensor], bool]


def activation_ops(m: nn.Module) -> ActOps:
    """Forward and backward kernels of the activation module ``m`` (``gankit.models.mlp.ACTIVATIONS``)."""
    if isinstance(m, nn.ReLU):
        return (lambda a, h: a.clamp_min_(0.0)), (lambda g, a, h: _A.threshold_backward.grad_input(
            g, h, 0.0, grad_input=g)), True
    if isinstance(m, nn.Tanh):
        return (lambda a, h: a.tanh_()), (lambda g, a, h: _A.tanh_backward.grad_input(g, h, grad_input=g)), True
    if isinstance(m, nn.LeakyReLU):
        s = m.negative_slope
        return (lambda a, h: _A.leaky_relu.out(a, s, out=h)), (lambda g, a, h: _A.leaky_relu_backward.grad_input(
            g, a, s, False, grad_input=g)), False
    if isinstance(m, nn.ELU):
        al = m.alpha
        return (lambda a, h: _A.elu.out(a, al, 1, 1, out=h)), (lambda g, a, h: _A.elu_backward.grad_input(
            g, al, 1, 1, False, a, grad_input=g)), False
    if isinstance(m, nn.SiLU):
        return (lambda a, h: _A.silu.out(a, out=h)), (lambda g, a, h: _A.silu_backward.grad_input(
            g, a, grad_input=g)), False
    raise GankitError(f"--seeds supports the activations relu, leaky_relu, elu, tanh, silu; got {type(m).__name__}")


class StackedMLP(nn.Module):
    """N MLPs of one architecture with their weights stacked: ``(N, out, in)`` and ``(N, out)``.

    Parameters are ``[W0, b0, W1, b1, ...]``, the order of ``nn.Sequential.parameters()`` of
    one replica, so optimiser states can be sliced per replica.

    Parameters
    ----------
    nets : list of nn.Sequential
        Linear layers alternating with stateless activations (``gankit.models.mlp``).
    out_shape : tuple of int or None
        Shape of one output sample (generator), or ``None`` to squeeze the last axis
        (discriminator logits).
    """

    def __init__(self, nets: list[nn.Sequential], out_shape: tuple[int, ...] | None) -> None:
        super().__init__()
        layers = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        self.act = next((m for m in nets[0] if not isinstance(m, nn.Linear)), nn.ReLU())
        self._act_fwd, self._act_bwd, self._in_place = activation_ops(self.act)
        self.params = nn.ParameterList()
        for j in range(len(layers[0])):
            self.params.append(nn.Parameter(torch.stack([ls[j].weight.detach() for ls in layers]).clone()))
            self.params.append(nn.Parameter(torch.stack([ls[j].bias.detach() for ls in layers]).clone()))
        self.out_shape = out_shape
        #: per layer (W, b): a plain list (indexing a ParameterList costs microseconds per call)
        self._layers = [(self.params[2 * j], self.params[2 * j + 1]) for j in range(len(self.params) // 2)]
        #: per layer: whether the backward uses the transposed products (few inputs, more outputs)
        self._skinny = [w.shape[2] < _SKINNY < w.shape[1] for w, _ in self._layers]
        self._storage: dict[tuple, Tensor] = {}
        self._plans: dict[tuple, list[tuple[Tensor, Tensor, Tensor]]] = {}
        self._saved: dict[str, tuple[torch.Size, list[Tensor], list[Tensor]]] = {}

    def _shape_out(self, y: Tensor, n: int, b: int) -> Tensor:
        return y.squeeze(2) if self.out_shape is None else y.view(n, b, *self.out_shape)

    def forward(self, x: Tensor) -> Tensor:  # x: (N, batch, *shape)
        """Autograd forward (reference for :meth:`run`)."""
        n, b = x.shape[:2]
        h = x.reshape(n, b, -1)
        for j, (w, bias) in enumerate(self._layers):
            if j:
                h = self.act(h)
            h = torch.baddbmm(bias.unsqueeze(1), h, w.transpose(1, 2))  # (N, batch, out)
        return self._shape_out(h, n, b)

    def _buffer(self, key: tuple, shape: tuple[int, ...]) -> Tensor:
        """A contiguous ``shape`` view of the start of the storage ``key`` (grown when too small)."""
        numel = math.prod(shape)
        t = self._storage.get(key)
        if t is None or t.numel() < numel:
            p = self._layers[0][0]
            t = self._storage[key] = torch.empty(numel, dtype=p.dtype, device=p.device)
            self._plans.clear()  # views of the old storage
        return t[:numel].view(shape)

    def _plan(self, tag: str, n: int, b: int) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Per layer: (pre-activation, activation, input gradient) buffers for ``n × b`` rows."""
        plan = self._plans.get((tag, n, b))
        if plan is None:
            plan = []
            for j, (w, _) in enumerate(self._layers):
                a = self._buffer((tag, "a", j), (n, b, w.shape[1]))
                h = a if self._in_place else self._buffer((tag, "h", j), (n, b, w.shape[1]))
                plan.append((a, h, self._buffer((tag, "g", j), (n, b, w.shape[2]))))
            self._plans[(tag, n, b)] = plan
        return plan

    @torch.no_grad()
    def run(self, x: Tensor, tag: str) -> Tensor:
        """Forward without autograd, activations kept for :meth:`backward_from` under ``tag``.

        The output is a view of a buffer that the next :meth:`run` with the same ``tag``
        overwrites; ``x`` must not change until the backward of this ``tag``.

        Parameters
        ----------
        x : Tensor, shape (N, batch, *shape)
        tag : str
            One set of buffers per tag (calls whose activations are not needed at the same
            time can share a tag, e.g. the generator's forward in the D step and in the G step;
            sharing keeps the working set small).
        """
        n, b = x.shape[0], x.shape[1]
        h = x.reshape(n, b, -1)
        plan = self._plan(tag, n, b)
        last = len(plan) - 1
        ins = []
        for j, (w, bias) in enumerate(self._layers):
            a, act_out, _ = plan[j]
            torch.baddbmm(bias.unsqueeze(1), h, w.transpose(1, 2), out=a)  # (N, batch, out)
            ins.append(h)
            if j < last:
                h = self._act_fwd(a, act_out)
        self._saved[tag] = (x.shape, ins, plan)
        return self._shape_out(plan[-1][0], n, b)

    @torch.no_grad()
    def backward_from(self, grad: Tensor, tag: str, *, param_grads: bool = True,
                      input_grad: bool = False) -> Tensor | None:
        """Backward of the last :meth:`run` under ``tag`` for the output gradient ``grad``.

        Parameters
        ----------
        grad : Tensor
            Gradient of the (summed) loss with respect to the output of :meth:`run`.
        tag : str
        param_grads : bool
            Write the weight and bias gradients into ``.grad`` (overwriting, not adding).
        input_grad : bool
            Compute and return the gradient with respect to ``x`` (shape of ``x``; a buffer
            reused by the next backward of this tag); otherwise return ``None``.
        """
        x_shape, ins, plan = self._saved[tag]
        n, b = grad.shape[0], grad.shape[1]
        g = grad.reshape(n, b, -1)
        for j in range(len(plan) - 1, -1, -1):
            w, bias = self._layers[j]
            # A product whose output has only a few columns (a layer with a 1- or 2-D input) is
            # several times faster in MKL computed as its transpose; the results are the same.
            skinny = self._skinny[j]
            if param_grads:
                if w.grad is None:
                    w.grad, bias.grad = torch.empty_like(w), torch.empty_like(bias)
                if skinny:
                    w.grad.copy_(torch.bmm(ins[j].transpose(1, 2), g).transpose(1, 2))
                else:
                    torch.bmm(g.transpose(1, 2), ins[j], out=w.grad)  # (N, out, batch) @ (N, batch, in)
                torch.sum(g, dim=1, out=bias.grad)
            if j == 0 and not input_grad:
                return None
            dh = plan[j][2]
            if w.shape[1] == 1:  # one output (D's logit): g @ W is an outer product, 3x faster as one multiply
                torch.mul(g, w, out=dh)
            else:
                torch.bmm(g, w.transpose(1, 2).contiguous().transpose(1, 2) if skinny else w, out=dh)  # g @ W
            if j == 0:
                return dh.view(x_shape)
            g = self._act_bwd(dh, plan[j - 1][0], ins[j])
        return None  # pragma: no cover (the loop returns at j == 0)

    @torch.no_grad()
    def copy_to(self, i: int, net: nn.Sequential) -> None:
        """Copy replica ``i``'s weights into ``net`` (same architecture)."""
        for p, stacked in zip(net.parameters(), self.params, strict=True):
            p.copy_(stacked[i])
