r"""Discriminator rejection sampling (Azadi, Olsson, Darrell, Goodfellow & Odena, ICLR 2019).

A classifier of real against generated samples, fitted to the final generator (:func:`fit_ratio`),
estimates ``log p_d/p_G``; candidates are accepted in proportion to ``p_d/p_G`` (:func:`drs_sample`),
which drops bridges and re-balances modes. Vector data only; fitting needs draws of the data.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import GankitError
from ..io import atomic_write_bytes
from .checks import check_drs
from .plain import eval_mode, forward_batched

__all__ = ["RatioClassifier", "fit_ratio", "fitted_ratio", "drs_sample"]

_RATIO_FORMAT = "gankit-drs-ratio-1"


class RatioClassifier(nn.Module):
    r"""A classifier of real against generated vectors whose logit estimates ``log p_d(x)/p_G(x)``.

    The Bayes-optimal classifier is ``σ(log p_d/p_G)`` (Sugiyama, Suzuki & Kanamori 2012). Inputs are
    standardised, mapped through random Fourier features ``[sin(Bx), cos(Bx)]``, ``B ~ N(0, bandwidth²)``
    (Tancik et al. 2020) to resolve narrow modes, then through two hidden layers of ``width`` LeakyReLU units.
    """

    def __init__(self, dim: int, mean: Tensor, std: Tensor, bandwidth: float = 10.0, features: int = 128,
                 width: int = 256, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("mean", mean.reshape(1, dim).float().clone())
        self.register_buffer("std", std.reshape(1, dim).float().clamp_min(1e-12).clone())
        self.register_buffer("B", torch.randn(dim, features, generator=gen) * float(bandwidth))
        self.net = nn.Sequential(nn.Linear(2 * features, width), nn.LeakyReLU(0.2), nn.Linear(width, width),
                                 nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x: Tensor) -> Tensor:  # (n, dim) -> (n,) log-ratio estimates
        h = ((x.flatten(1) - self.mean) / self.std) @ self.B
        return self.net(torch.cat([torch.sin(h), torch.cos(h)], dim=1)).squeeze(1)


def fit_ratio(G: nn.Module, source: Any, steps: int = 2000, seed: int = 0, device: torch.device | str = "cpu",
              batch: int = 512, bandwidth: float = 10.0, lr: float = 1e-3) -> RatioClassifier:
    """Fit a fresh :class:`RatioClassifier` to real draws of vector data ``source`` against ``G``'s samples.

    Every step draws ``batch`` new real and generated samples (no sample is seen twice);
    logistic loss, Adam (``lr``, β = (0.5, 0.999)) decayed linearly to 1 %. Deterministic in ``seed``.
    """
    check_drs(steps, bandwidth)
    if len(getattr(source, "shape", ())) != 1:
        raise GankitError(f"the drs sampler needs vector data (toy sets, 1-D mixtures, tables); "
                          f"{getattr(source, 'name', 'this source')!r} has samples of shape {tuple(source.shape)}")
    if steps == 0:
        raise GankitError("drs needs at least 1 classifier step")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        pilot = source.sample(4096, gen).flatten(1).float()
        R = RatioClassifier(pilot.shape[1], pilot.mean(0), pilot.std(0), bandwidth, seed=seed).to(device)
    opt = torch.optim.Adam(R.parameters(), lr=lr, betas=(0.5, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - 0.99 * t / steps)
    target = torch.cat([torch.ones(batch), torch.zeros(batch)]).to(device)
    with eval_mode(G):
        for _ in range(steps):
            real = source.sample(batch, gen).flatten(1).float().to(device)
            with torch.no_grad():
                fake = G(torch.randn(batch, G.latent_dim, generator=gen).to(device)).flatten(1).float()
            loss = nn.functional.binary_cross_entropy_with_logits(R(torch.cat([real, fake])), target)
            if not torch.isfinite(loss):
                raise GankitError("the drs classifier's loss became non-finite (NaN/inf in the data or the "
                                  "generator's samples); no samples drawn")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    R.eval()
    return R


def _ratio_key(G: nn.Module, source: Any, steps: int, seed: int, bandwidth: float) -> str:
    """What a fitted classifier depends on: G's weights (bit for bit), the data, steps, seed, bandwidth."""
    h = hashlib.sha256()
    for name, t in sorted(G.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    h.update(json.dumps([str(getattr(source, "name", type(source).__name__)), list(getattr(source, "shape", ())),
                         int(steps), int(seed), float(bandwidth)]).encode())
    return h.hexdigest()


def fitted_ratio(G: nn.Module, source: Any, steps: int, seed: int, device: torch.device | str = "cpu",
                 bandwidth: float = 10.0, cache: str | Path | None = None, save: bool = False) -> RatioClassifier:
    """:func:`fit_ratio`, or the classifier already fitted for exactly these inputs and kept in ``cache``.

    ``cache`` is a run's :data:`gankit.io.RATIO_FILE` (``save=True`` writes it), read with ``weights_only`` and used
    only where its key (SHA-256 of G's weights, the data, ``steps``, ``seed``, ``bandwidth``) matches.
    """
    key = _ratio_key(G, source, steps, seed, bandwidth) if cache is not None else ""
    if cache is not None and Path(cache).is_file():
        try:
            saved = torch.load(cache, map_location="cpu", weights_only=True)
            if isinstance(saved, dict) and saved.get("format") == _RATIO_FORMAT and saved.get("key") == key:
                st = saved["state"]
                R = RatioClassifier(st["mean"].shape[1], st["mean"], st["std"], bandwidth, st["B"].shape[1],
                                    st["net.0.weight"].shape[0])
                R.load_state_dict(st)
                return R.to(device).eval()
        except Exception:  # noqa: BLE001 -- unreadable or foreign: fit afresh (same result, only slower)
            pass
    R = fit_ratio(G, source, steps, seed, device, bandwidth=bandwidth)
    if save and cache is not None:
        buf = io.BytesIO()
        torch.save({"format": _RATIO_FORMAT, "key": key,
                    "state": {k: v.detach().to("cpu") for k, v in R.state_dict().items()}}, buf)
        atomic_write_bytes(Path(cache), buf.getvalue())
    return R


@torch.no_grad()
def drs_sample(G: nn.Module, R: nn.Module, n: int, seed: int, device: torch.device | str = "cpu",
               batch: int | None = None, max_draws: int | None = None, clip: float = 0.9999) -> Tensor:
    r"""``n`` samples of ``G`` kept by rejection with the log density ratio ``R``.

    Candidates ``x = G(z)`` are accepted with probability ``min(1, exp(R(x) − M))`` (Azadi et
    al. 2019 without their γ shift), so accepted samples are draws from ``p_G · e^{R} ∝ p_d``.
    ``M`` is the log-ratio at quantile ``clip`` of the first batch of candidates (``clip = 1``:
    its largest, as in the paper): weights above it are clipped (truncated importance sampling,
    Ionides 2008), so a few stray large estimates cannot drive the acceptance rate to zero.
    ``batch`` defaults to ``max(20n, 50000)`` (at most 2²³); more than ``max_draws`` candidates
    (default ``1000·n``) raise :class:`GankitError`. Returns a CPU float32 tensor, deterministic in ``seed``.
    """
    if not (isinstance(clip, (int, float)) and 0.5 <= clip <= 1):
        raise GankitError(f"drs clip must be a quantile in [0.5, 1] (1 = the pilot's largest log-ratio); got {clip!r}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    batch = batch or min(max(20 * n, 50_000), 2**23)  # torch.quantile takes at most 2**24 values
    max_draws = max_draws or 1000 * n
    kept, have, drawn, M = [], 0, 0, None
    with eval_mode(G):
        while have < n:
            if drawn >= max_draws:
                raise GankitError(f"drs accepted only {have} of {n} samples in {drawn} candidates (acceptance "
                                  f"{have / drawn:.2g}): the classifier finds almost no generated sample "
                                  f"real-like; train the generator longer or use the plain sampler")
            z = torch.randn(batch, G.latent_dim, generator=gen).to(device)
            x = forward_batched(G, z, 4096)
            logr = R(x.flatten(1)).double().cpu()
            if M is None:  # the bound: the pilot's log-ratios at quantile ``clip``
                M = float(torch.quantile(logr, clip)) if clip < 1 else float(logr.max())
            u = torch.rand(batch, generator=gen, dtype=torch.float64)
            acc = (torch.log(u) < logr - M).nonzero().squeeze(1)
            kept.append(x[acc.to(x.device)].cpu())
            have += int(acc.numel())
            drawn += batch
    return torch.cat(kept)[:n].float()
