"""Sampling one class of a conditional generator: the hook ``gankit sample --class K`` goes through.

A conditional generator states its number of classes as ``num_classes`` (> 0) and gives, for a
class ``k``, a generator of that class alone with ``for_class(k)``: a module with the same
``latent_dim`` whose ``forward(z)`` draws class ``k`` (so every sampler of :mod:`gankit.sampling`
works on it unchanged). Any other generator is not conditional, and asking it for a class is
one :class:`~gankit.errors.GankitError` line.
"""

from __future__ import annotations

from torch import nn

from ..errors import GankitError

__all__ = ["is_conditional", "class_generator"]


def is_conditional(G: nn.Module) -> bool:
    """Whether ``G`` is a conditional generator (``num_classes > 0`` and ``for_class``)."""
    n = getattr(G, "num_classes", 0)
    return isinstance(n, int) and n > 0 and callable(getattr(G, "for_class", None))


def class_generator(G: nn.Module, label: int) -> nn.Module:
    """The generator of class ``label`` of the conditional generator ``G`` (see the module docstring)."""
    if not is_conditional(G):
        raise GankitError(f"--class {label}: this run's model is not conditional; sample it without --class")
    n = G.num_classes
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n:
        raise GankitError(f"--class must be an integer in [0, {n - 1}] (this model has {n} classes), got {label!r}")
    return G.for_class(label)
