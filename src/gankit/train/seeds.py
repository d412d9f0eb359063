"""Train N seeds of one run in one process: stacked MLP weights and batched matmuls.

``gankit train --seeds N`` trains the seeds ``train.seed, train.seed + 1, ..., train.seed + N - 1``
as N independent replicas of the same run. Replica ``i`` gets exactly what a separate run
with seed ``s_i`` gets:

- initialisation: ``seed_everything(s_i)`` then the model factory (the weights are then
  stacked along a new leading axis, ``(N, out, in)`` per linear layer);
- its own data stream ``torch.Generator().manual_seed(s_i)`` and noise stream
  ``manual_seed(s_i + 7919)`` (the generators of a normal :class:`Trainer`);
- its own optimiser state: Adam, RMSprop and SGD-with-momentum act element by element, so
  one optimiser over the stacked tensors *is* N optimisers (fused Adam/SGD, foreach RMSprop:
  one kernel per stacked tensor);
- its own loss: the per-replica losses (``torch.vmap`` of the objective's pure loss
  functions, shape ``(N,)``) are summed, and replica ``i``'s weights only receive the
  gradient of its own loss.

Each layer ``y = x Wᵀ + b`` becomes one ``torch.baddbmm`` over the N replicas, so small
models fill the cores N times better than N separate runs. The discriminator sees the real
and the fake rows of a step in one pass, and the forward and backward of the stacked MLPs are
written out by hand into buffers reused at every step (:mod:`gankit.train.stacked`); autograd
only differentiates the losses with respect to the logits. Results equal N separate runs to
float rounding (``tests/train/test_seeds_vectorised.py``).

Each seed gets a normal run directory (``<out>/seed<s>/``: config.toml, metrics.json,
history.jsonl, checkpoints loadable by ``gankit sample``/``eval``, pictures) written by the
same callbacks as a normal run (through one :class:`Trainer` per replica whose weights and
optimiser state are synchronised from the stacked ones whenever a callback is due), and
``<out>/summary.json`` holds mean ± std (sample std, ``ddof=1``) of every final metric.

Supported: the ``mlp`` model with the ``ns``, ``minimax`` and ``fgan:*`` objectives.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.optim.adam import adam

from ..config import RunConfig, dumps_toml
from ..errors import GankitError
from ..io import atomic_write_bytes, json_safe
from ..objectives.base import LogitObjective
from .callbacks import Checkpointer, History
from .stacked import StackedMLP
from .trainer import Trainer, TrainingInterrupted, make_optimizer

__all__ = ["StackedMLP", "VectorisedTrainer", "train_seeds", "check_supported", "SUPPORTED"]

SUPPORTED = "model mlp with objectives ns, minimax, fgan:<divergence>"


def check_supported(cfg: RunConfig, n_seeds: int) -> None:
    """Raise :class:`GankitError` unless ``cfg`` can be trained with ``--seeds``."""
    if n_seeds < 1:
        raise GankitError(f"--seeds must be >= 1, got {n_seeds}")
    from .presets import is_image_data

    obj = cfg.objective.name
    model = cfg.model.name
    if model == "auto":  # auto: mlp for vector data, dcgan for images
        model = "dcgan" if is_image_data(cfg.data.name) else "mlp"
    if model != "mlp" or not (obj in ("ns", "minimax") or obj.startswith("fgan:")):
        raise GankitError(
            f"--seeds supports {SUPPORTED}; got model {cfg.model.name!r} with objective {obj!r}")
    extras = {"model.pack": (cfg.model.pack, 1), "model.scale": (cfg.model.scale, 1.0), "objective.r1": (cfg.objective.r1, 0.0),
              "objective.r2": (cfg.objective.r2, 0.0), "train.ema": (cfg.train.ema, 0.0),
              "train.lr_schedule": (cfg.train.lr_schedule, "constant"), "model.spectral_norm": (cfg.model.spectral_norm, False)}
    off = [f"--set {k}={'constant' if v == 'constant' else str(v).lower()}" for k, (got, v) in extras.items() if got != v]
    if off:
        raise GankitError("--seeds trains plain Algorithm 1 replicas (no packing, R1/R2, EMA, LR schedule, "
                          f"spectral norm, scale); add {' '.join(off)}")
    if cfg.train.compile or cfg.train.precision != "fp32":
        raise GankitError("--seeds supports train.compile=false and train.precision=fp32 only")


class _AdamStep:
    """``opt.step()`` of a fused Adam through the functional ``torch.optim.adam.adam``.

    The first call is a normal ``opt.step()`` (it creates the state); later calls pass the
    same parameter, gradient and state tensors straight to the functional form, skipping the
    per-call bookkeeping of ``Optimizer.step`` (hooks, state look-ups per tensor: ~40 % of a
    fused step of 8 small tensors). The state stays in ``opt.state`` (updated in place), so
    ``opt.state_dict()`` is unchanged. Other optimisers: plain ``opt.step()``.
    """

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        self.opt = opt
        self._args: tuple | None = None
        self._kw: dict[str, Any] = {}

    def __call__(self) -> None:
        opt = self.opt
        if self._args is not None:
            adam(*self._args, **self._kw)
            return
        opt.step()
        (g,) = opt.param_groups
        if not isinstance(opt, torch.optim.Adam) or not g["fused"] or g["amsgrad"] or g.get("decoupled_weight_decay"):
            return  # not the fast path: keep calling opt.step()
        ps = list(g["params"])
        st = [opt.state[p] for p in ps]
        self._args = (ps, [p.grad for p in ps], [s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st], [],
                      [s["step"] for s in st])
        self._kw = {"fused": True, "amsgrad": False, "beta1": g["betas"][0], "beta2": g["betas"][1], "lr": g["lr"],
                    "weight_decay": g["weight_decay"], "eps": g["eps"], "maximize": g["maximize"]}


def _slice_optimizer_state(state: dict[str, Any], i: int) -> dict[str, Any]:
    """Replica ``i``'s part of a state dict of an optimiser over stacked tensors."""
    per = {k: {name: (v[i] if torch.is_tensor(v) and v.dim() > 0 else v) for name, v in s.items()}
           for k, s in state["state"].items()}
    return {"state": per, "param_groups": state["param_groups"]}


class VectorisedTrainer:
    """Algorithm 1 for N replicas at once (see the module docstring).

    Parameters
    ----------
    replicas : list of Trainer
        One normal trainer per seed (its models, data and noise generators); the stacked
        weights start from their models.
    """

    def __init__(self, replicas: list[Trainer]) -> None:
        self.replicas = replicas
        r0 = replicas[0]
        self.cfg, self.objective, self.source = r0.cfg, r0.objective, r0.source
        if not isinstance(self.objective, LogitObjective):
            raise GankitError(f"--seeds supports {SUPPORTED}")
        self.latent_dim = r0.G.latent_dim
        self.G = StackedMLP([r.G.net for r in replicas], tuple(r0.G.data_shape)).to(r0.device)
        self.D = StackedMLP([r.D.net for r in replicas], None).to(r0.device)
        betas = (self.cfg.beta1, self.cfg.beta2)
        # One kernel per stacked tensor (fused Adam/SGD, foreach RMSprop): the same element-wise
        # update as the replicas' optimisers, without the per-tensor Python loop.
        impl = {"foreach": True} if self.cfg.optimizer == "rmsprop" else {"fused": True}
        self.opt_g = make_optimizer(self.cfg.optimizer, self.G.parameters(), self.cfg.lr_g, betas, **impl)
        self.opt_d = make_optimizer(self.cfg.optimizer, self.D.parameters(), self.cfg.lr_d, betas, **impl)
        self._step_g, self._step_d = _AdamStep(self.opt_g), _AdamStep(self.opt_d)
        obj = self.objective
        est = obj.estimate_fn

        def d_loss_and_estimate(real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
            loss = obj.d_loss_fn(real_logits, fake_logits)
            return loss, (est(real_logits.detach(), fake_logits.detach()) if est is not None else loss)

        # Per-replica losses (and estimates), shape (N,): one vmap call each.
        self._d_losses = torch.vmap(d_loss_and_estimate)
        self._g_losses = torch.vmap(obj.g_loss_fn)
        n, bs, dev = len(replicas), self.cfg.batch_size, r0.device
        shape = tuple(r0.G.data_shape)
        self._x = torch.empty(n, 2 * bs, *shape, device=dev)  # D step input: real rows, then fake rows
        self._z_d = torch.empty(n, bs, self.latent_dim, device=dev)
        self._z_g = torch.empty(n, bs, self.latent_dim, device=dev)
        self.step = 0
        self.pending: dict[str, list[Tensor]] = {}  # per-step (N,) tensors

    def real_batch(self, out: Tensor | None = None) -> Tensor:  # (N, batch, *shape)
        """Each replica's next real batch from its own data stream (into ``out`` if given)."""
        bs = self.cfg.batch_size
        if out is None:
            out = torch.empty(len(self.replicas), bs, *self.source.shape, device=self.replicas[0].device)
        for i, r in enumerate(self.replicas):
            out[i].copy_(r.source.sample(bs, r.data_gen))
        return out

    def noise(self, out: Tensor | None = None) -> Tensor:  # (N, batch, latent)
        """Each replica's next latent batch from its own noise stream (into ``out`` if given)."""
        bs = self.cfg.batch_size
        if out is None:
            out = torch.empty(len(self.replicas), bs, self.latent_dim, device=self.replicas[0].device)
        for i, r in enumerate(self.replicas):
            torch.randn(bs, self.latent_dim, generator=r.noise_gen, out=out[i])
        return out

    @staticmethod
    def _logit_grad(fn: Any, logits: Tensor, *split: int) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Gradient of ``Σ_i loss_i`` w.r.t. ``logits`` (replica i's weights only see loss_i) and ``fn``'s outputs."""
        leaf = logits.detach().requires_grad_()
        with torch.enable_grad():
            out = fn(*leaf.split(split, dim=1)) if split else fn(leaf)
            out = out if isinstance(out, tuple) else (out,)
            (grad,) = torch.autograd.grad(out[0].sum(), leaf)
        return grad, tuple(o.detach() for o in out)

    def train_step(self) -> None:
        """One step of Algorithm 1 for every replica (forward and backward by :class:`StackedMLP`)."""
        G, D, bs, x = self.G, self.D, self.cfg.batch_size, self._x
        for _ in range(self.cfg.d_steps):
            # Discriminator, G fixed: real and fake rows in one pass; each replica minimises its own loss.
            self.real_batch(out=x[:, :bs])
            x[:, bs:].copy_(G.run(self.noise(out=self._z_d), "g"))
            grad, (d_losses, estimate) = self._logit_grad(self._d_losses, D.run(x, "d"), bs, bs)
            D.backward_from(grad, "d", param_grads=True, input_grad=False)
            self._step_d()
        # Generator, D fixed: D's input gradient only.
        fake = G.run(self.noise(out=self._z_g), "g")
        grad, (g_losses,) = self._logit_grad(self._g_losses, D.run(fake, "d"))
        G.backward_from(D.backward_from(grad, "d", param_grads=False, input_grad=True), "g")
        self._step_g()
        p = self.pending
        p.setdefault("d_loss", []).append(d_losses)
        p.setdefault("g_loss", []).append(g_losses)
        if self.objective.estimate_fn is not None:
            p.setdefault("estimate", []).append(estimate)

    def sync(self) -> None:
        """Copy weights, optimiser states, step and pending logs into the per-replica trainers."""
        sg, sd = self.opt_g.state_dict(), self.opt_d.state_dict()
        for i, r in enumerate(self.replicas):
            self.G.copy_to(i, r.G.net)
            self.D.copy_to(i, r.D.net)
            r.opt_g.load_state_dict(_slice_optimizer_state(sg, i))
            r.opt_d.load_state_dict(_slice_optimizer_state(sd, i))
            r.step = self.step
            r.pending = {k: [t[i] for t in v] for k, v in self.pending.items()}

    def fit(self, progress: bool = False) -> VectorisedTrainer:
        """Run until ``train.steps``; callbacks of the replicas run when one of them is due.

        Ctrl-C stops between two steps, saves every seed's checkpoint and raises
        :class:`TrainingInterrupted` (each seed's directory then resumes as a normal run).
        """
        cfg = self.cfg
        for r in self.replicas:
            for cb in r.callbacks:
                cb.on_train_start(r)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, initial=self.step, unit="step", desc=f"{len(self.replicas)} seeds")
        stop = _StopOnSigint()
        with stop:
            self._loop(bar, stop)
        if stop.requested and self.step < cfg.steps:
            self._callbacks("on_interrupt")  # every seed's Checkpointer saves
            if bar is not None:
                bar.close()
            raise TrainingInterrupted(f"stopped at step {self.step}")
        self._callbacks("on_train_end")
        if bar is not None:
            bar.close()
        return self

    def _loop(self, bar: Any, stop: _StopOnSigint) -> None:
        cfg = self.cfg
        while self.step < cfg.steps and not stop.requested:
            self.train_step()
            self.step += 1
            if bar is not None and (self.step % 25 == 0 or self.step == cfg.steps):
                bar.update(self.step - bar.n)
            due = any(e and self.step % e == 0 for e in (cfg.eval_every, cfg.checkpoint_every))
            if due and self.step < cfg.steps:
                self._callbacks("on_step_end")

    def _callbacks(self, hook: str) -> None:
        self.sync()
        for r in self.replicas:
            for cb in r.callbacks:
                getattr(cb, hook)(r)
        if not self.replicas[0].pending:  # History popped the logs
            self.pending = {}


class _StopOnSigint:
    """Ctrl-C asks the loop to stop between two steps (a second Ctrl-C stops at once)."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopOnSigint:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def summarise(finals: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample std (``ddof=1``; 0 for one seed) of every numeric final metric."""
    out: dict[str, Any] = {"seeds": [f["seed"] for f in finals], "n": len(finals), "metrics": {}}
    for k in finals[0]:
        vals = [f.get(k) for f in finals]
        if k == "seed" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            continue
        a = np.asarray(vals, dtype=float)
        out["metrics"][k] = {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                             "values": vals}
    return out


def train_seeds(cfg: RunConfig, n_seeds: int, out: str | Path, *, progress: bool = False,
                pictures: bool = True) -> dict[str, Any]:
    """Train seeds ``cfg.train.seed + i`` (``i < n_seeds``) vectorised into ``out/seed<s>/``.

    Returns the summary (also written to ``out/summary.json``).
    """
    from .preflight import check_output
    from .run import _eval_fn, _write_json, build

    check_supported(cfg, n_seeds)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise GankitError(f"run directory {str(out)!r} already exists and is not empty; choose another --out")
    builts, replicas = [], []
    source = None
    for i in range(n_seeds):
        cfg_i = replace(cfg, train=replace(cfg.train, seed=cfg.train.seed + i))
        b = build(cfg_i, source=source)  # seed_everything(seed) + model factory, as a separate run
        source = b.source
        run_dir = out / f"seed{cfg_i.train.seed}"
        check_output(run_dir)
        config_text = dumps_toml(cfg_i)
        atomic_write_bytes(run_dir / "config.toml", config_text.encode())
        history = History(cfg.train.eval_every, _eval_fn(b), run_dir / "history.jsonl")
        ckpt = Checkpointer(run_dir / "checkpoints", cfg.train.checkpoint_every, cfg.train.keep_checkpoints,
                            extra=lambda t=config_text, h=history: {"config": t,
                                                                    "history_last": json.dumps(json_safe(h.last))})
        builts.append(b)
        replicas.append(Trainer(b.G, b.D, b.objective, b.source, cfg_i.train, [history, ckpt], device=b.device))
    vt = VectorisedTrainer(replicas)
    t0 = time.perf_counter()
    vt.fit(progress=progress)
    wall = round(time.perf_counter() - t0, 3)
    finals = []
    for b, r in zip(builts, replicas, strict=True):
        run_dir = out / f"seed{b.cfg.train.seed}"
        final = dict(r.callbacks[0].last)
        if cfg.eval.drs:  # discriminator rejection sampling, as `gankit train` scores it (gankit.train.run)
            from ..metrics.evaluate import final_evaluate

            try:
                from ..sampling import RATIO_FILE

                final.update(final_evaluate(b.G, b.source, b.cfg.eval, b.device, test=b.eval_source,
                                            ratio_cache=run_dir / RATIO_FILE, save_ratio=True))
            except GankitError as exc:
                final["drs_error"] = str(exc)
        final.update(wall_time=wall, data=cfg.data.name, objective=cfg.objective.name, seed=b.cfg.train.seed,
                     vectorised_seeds=n_seeds)
        _write_json(run_dir / "metrics.json", final)
        if pictures:
            from ..report.plots import save_run_pictures

            save_run_pictures(run_dir, b, r)
        finals.append(final)
    summary = summarise(finals)
    _write_json(out / "summary.json", summary)
    return summary
