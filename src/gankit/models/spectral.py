"""Spectral normalisation of any discriminator, applied after construction (Miyato et al. 2018).

Each layer's weight ``W`` becomes ``W / σ(W)``, ``σ`` its largest singular value estimated by
one power iteration per training forward pass
(``torch.nn.utils.parametrizations.spectral_norm``; convolutions reshaped to
(out, in·k·k) as in the paper).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from torch.nn.utils.parametrize import is_parametrized

__all__ = ["apply_spectral_norm", "SN_LAYERS"]

#: Layer types whose ``weight`` is normalised.
SN_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
)


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectral-normalise every Linear/Conv layer of ``module`` in place; returns ``module``.

    Parameters
    ----------
    module : nn.Module
        Any network (e.g. a discriminator); nested modules are visited.
    n_power_iterations : int, default 1
        Power iterations per training forward pass.

    Examples
    --------
    >>> import torch
    >>> D = apply_spectral_norm(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)))
    >>> hasattr(D[0], "parametrizations")
    True
    """
    layers = [m for m in module.modules() if isinstance(m, SN_LAYERS) and not is_parametrized(m, "weight")]
    for m in layers:  # collected first: parametrising while iterating would visit new modules
        spectral_norm(m, n_power_iterations=n_power_iterations)  # torch picks dim 1 for ConvTranspose, else 0
    return module
