"""Train N seeds of one run in one process: one trainer over stacked replica weights.

The run layer builds one normal :class:`~gankit.train.trainer.Trainer` per seed, each with its
own callbacks, and hands them to :func:`fit_replicas`. Replica ``i`` gets exactly what a
separate run with seed ``s_i`` gets: its initialisation, its own data and noise streams, its
own optimiser state (Adam, RMSprop and SGD act element by element, so one optimiser over the
stacked tensors *is* N optimisers) and its own loss (evaluated per replica with
:func:`torch.vmap`, so replica ``i``'s weights only receive the gradient of its own loss).

:class:`StackedTrainer` overrides the step and inherits ``fit`` (loop, Ctrl-C, progress bar).
:class:`ReplicaCallbacks` drives each replica's own callbacks: EMA and the LR schedule run on
the stack every step; the others (history, checkpoints, health guard, pictures) run where
evaluation, checkpoint or health checks are due, after the replica is copied out of the stack.
Results equal N separate ``Trainer.fit()`` runs to float rounding
(``tests/train/test_seeds_vectorised.py``); docs/speed.md has the measured speed.
"""

from __future__ import annotations

import copy
from dataclasses import is_dataclass, replace
from typing import Any

import torch
from torch import Tensor

from ..config import RunConfig
from ..errors import GankitError
from ..models import resolve_model_name
from ..objectives import WGAN, LogitObjective
from ..objectives.penalty import Regularized
from .averaging import EMA, LRSchedule
from .callbacks import ProgressBar
from .stacked import (
    copy_hyperparameters,
    load_replica_optimizer_states,
    replica_optimizer_state,
    stack_discriminators,
    stack_generators,
    stack_replicas,
    take_replica,
)
from .trainer import Callback, Trainer, make_optimizer

__all__ = ["StackedTrainer", "ReplicaCallbacks", "fit_replicas", "check_supported", "SUPPORTED"]

SUPPORTED = "model mlp (packing, scale) with objectives ns, minimax, hinge, wgan, fgan:<divergence> (R1/R2 too)"

#: replica callbacks run once per step on the stacked trainer (a twin), their state copied out at syncs
_TWINS = (EMA, LRSchedule)
#: replica callbacks called on the replica at every step (they read only ``step`` and ``pending``)
_EVERY_STEP = (ProgressBar,)


def check_supported(cfg: RunConfig, n_seeds: int, data_shape: tuple[int, ...] | None = None) -> None:
    """Raise :class:`GankitError` naming the first setting that ``--seeds`` cannot vectorise.

    Parameters
    ----------
    cfg : RunConfig
    n_seeds : int
    data_shape : tuple of int, optional
        Shape of one data sample, to resolve ``model.name = "auto"`` (without it, ``auto`` is
        checked when the replicas are stacked).
    """
    if n_seeds < 1:
        raise GankitError(f"--seeds must be >= 1, got {n_seeds}")
    model = cfg.model.name if data_shape is None else resolve_model_name(cfg.model.name, data_shape)
    obj = cfg.objective.name
    refusals = [
        (model not in ("mlp", "auto"), f"model.name={cfg.model.name}: --seeds stacks MLP weights into batched "
         "matrix products; other architectures are not stacked"),
        (obj == "wgan-gp" or cfg.objective.gp_weight > 0, f"objective.name={obj} with objective.gp_weight > 0: "
         "its penalty draws interpolation points from torch's global "
         "generator, which N replicas in one process cannot each reproduce; set objective.gp_weight=0 "
         "(objective.r2, which --seeds stacks, is an alternative penalty: docs/theory.md)"),
        (not (obj in ("ns", "minimax", "hinge", "wgan", "wgan-gp") or obj.startswith("fgan:")),
         f"objective.name={obj}: --seeds supports {SUPPORTED}"),
        (bool(cfg.model.spectral_norm), "model.spectral_norm=true: its power-iteration vectors are per-model "
         "buffers that --seeds does not stack; set model.spectral_norm=false"),
        (cfg.train.on_nan == "rollback", "train.on_nan=rollback: a rollback lowers one seed's learning rates, "
         "but the seeds share one optimiser over stacked weights; use train.on_nan=stop"),
        (bool(cfg.model.conditional), f"model.conditional={cfg.model.conditional}: the class embeddings and "
         "labelled batches are not stacked; train the seeds one by one"),
        (bool(cfg.train.compile), "train.compile=true: the stacked step is not compiled; set train.compile=false"),
        (cfg.train.precision != "fp32", f"train.precision={cfg.train.precision}: --seeds trains in fp32 only"),
    ]
    for refused, why in refusals:
        if refused:
            raise GankitError(f"--seeds cannot vectorise {why}")


def _identity(t: Tensor) -> Tensor:
    return t


class StackedTrainer(Trainer):
    """Algorithm 1 for N replica trainers at once (see the module docstring).

    Parameters
    ----------
    replicas : list of Trainer
        One normal trainer per seed, same configuration apart from ``seed``, each with its
        own models, data and noise streams and callbacks.
    callbacks : list of Callback, optional
        Callbacks of the stacked run itself (e.g. one progress bar for all seeds); they see
        the mean losses over the replicas. The replicas' callbacks are driven by
        :class:`ReplicaCallbacks` (always the first callback).
    """

    def __init__(self, replicas: list[Trainer], callbacks: list[Callback] | None = None) -> None:
        if not replicas:
            raise GankitError("--seeds needs at least one replica trainer")
        r0 = replicas[0]
        for r in replicas[1:]:
            same = replace(r.cfg, seed=0) == replace(r0.cfg, seed=0) if is_dataclass(r.cfg) else True
            if not same or r.step != r0.step or repr(r.objective) != repr(r0.objective):
                raise GankitError("--seeds replicas must share their configuration (all but train.seed) and step")
        obj = r0.objective
        self._r1, self._r2 = (obj.r1, obj.r2) if isinstance(obj, Regularized) else (0.0, 0.0)
        self._base = obj.base if isinstance(obj, Regularized) else obj
        if isinstance(obj, Regularized) and obj.gp > 0:  # (check_supported says so first, with the setting)
            raise GankitError("--seeds cannot vectorise a gradient penalty on interpolates (objective.gp_weight > 0)")
        if not isinstance(self._base, (LogitObjective, WGAN)):
            raise GankitError(f"--seeds cannot vectorise objective {obj.name!r}; it supports {SUPPORTED}")
        G = stack_generators([r.G for r in replicas])  # (on the replicas' device)
        D = stack_discriminators([r.D for r in replicas])
        D.fast = D.fast and not (self._r1 or self._r2)  # the penalties differentiate D's input gradient again
        super().__init__(G, D, obj, r0.source, r0.cfg, callbacks, device=r0.device)
        self.replicas = replicas
        self.step = r0.step
        cfg = self.cfg
        # one kernel per stacked tensor: the replicas' element-wise update without a per-tensor loop
        impl = {"foreach": True} if cfg.optimizer == "rmsprop" else {"fused": True}
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = make_optimizer(cfg.optimizer, [G.flat], cfg.lr_g, betas, **impl)
        self.opt_d = make_optimizer(cfg.optimizer, [D.flat], cfg.lr_d, betas, **impl)
        self._d_params = [D.flat]
        for stacked, opts in ((self.opt_g, [r.opt_g for r in replicas]), (self.opt_d, [r.opt_d for r in replicas])):
            load_replica_optimizer_states(stacked, opts)
        base = self._base
        # per-replica losses, shape (N,): the objective applied to each replica's logits
        self._d_losses = torch.vmap(lambda rl, fl: base.discriminator_loss(_identity, rl, fl))
        self._g_losses = torch.vmap(lambda fl: base.generator_loss(_identity, fl))
        #: the latest step's per-replica losses and logs, each of shape (N,)
        self.logs: dict[str, Tensor] = {}
        self.callbacks.insert(0, ReplicaCallbacks(self))
        self._means = any(isinstance(cb, ProgressBar) for cb in self.callbacks)

    def _update(self, loss: Tensor, opt: torch.optim.Optimizer, scaler: Any) -> None:
        for group in opt.param_groups:  # zero_grad(set_to_none=True) without its per-call bookkeeping
            for p in group["params"]:
                p.grad = None
        loss.backward()
        opt.step()

    def real_batch(self) -> Tensor:
        """Each replica's next real batch from its own data stream, ``(N, n_batch, *shape)``."""
        return torch.stack([r.real_batch() for r in self.replicas])

    def noise(self, n: int) -> Tensor:
        """Each replica's next ``n`` latent vectors from its own noise stream, ``(N, n, latent)``."""
        return torch.stack([r.noise(n) for r in self.replicas])

    def _penalty(self, logits: Tensor, x: Tensor) -> Tensor:
        """Per replica E‖∇ₓ l‖² over D's inputs (``gankit.objectives.penalty``; per pack when packed), ``(N,)``."""
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
        return grad.reshape(logits.shape[0], logits.shape[1], -1).pow(2).sum(2).mean(1)

    def _discriminator_losses(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Per-replica D losses ``(N,)`` and logs; real and fake rows go through D in one pass."""
        k = self.objective.lazy_factor() if self._r1 or self._r2 else 0  # lazy R1/R2: 0 on the steps without
        if self._r1 and k:
            real = real.detach().requires_grad_(True)
        if self._r2 and k:
            fake = fake.detach().requires_grad_(True)
        logits = self.D(torch.cat((real, fake), dim=1))  # (N, 2 · inputs per side)
        real_logits, fake_logits = logits.chunk(2, dim=1)
        losses, logs = self._d_losses(real_logits, fake_logits)
        logs = dict(logs)
        for name, gamma, x, lg in (("r1", self._r1, real, real_logits), ("r2", self._r2, fake, fake_logits)):
            if gamma > 0 and k:
                pen = self._penalty(lg, x)
                losses = losses + 0.5 * gamma * k * pen
                logs[name] = pen.detach()
        return losses, logs

    def train_step(self) -> None:
        """One step of Algorithm 1 for every replica; each minimises its own loss."""
        obj, bs = self.objective, self.n_batch
        self.G._live = self.D._live = False  # no graph of a previous step is pending (an exception may have cut one)
        for _ in range(obj.critic_steps(self.step, self.cfg.d_steps)):
            real = self.real_batch()
            with torch.no_grad():
                fake = self.G(self.noise(bs))
            d_losses, logs = self._discriminator_losses(real, fake)
            self._update(d_losses.sum(), self.opt_d, None)
            obj.after_discriminator_step(self.D)  # e.g. WGAN's clipping, element-wise on the stack
        for q in self._d_params:
            q.requires_grad_(False)
        g_losses = self._g_losses(self.D(self.G(self.noise(bs))))
        self._update(g_losses.sum(), self.opt_g, None)
        for q in self._d_params:
            q.requires_grad_(True)
        self.logs = {"d_loss": d_losses.detach(), "g_loss": g_losses.detach(), **logs}
        if self._means:  # what this trainer's own callbacks (a progress bar) read
            self.pending = {k: [v.mean()] for k, v in self.logs.items()}

    @torch.no_grad()
    def sync_replica(self, i: int) -> None:
        """Copy replica ``i``'s weights, gradients and optimiser states out of the stack."""
        r = self.replicas[i]
        for mine, stacked in ((r.G, self.G), (r.D, self.D)):
            grads = stacked.split(stacked.flat.grad) if stacked.flat.grad is not None else None
            for j, (p, s) in enumerate(zip(mine.parameters(), stacked.parameters(), strict=True)):
                p.copy_(s[i])
                p.grad = None if grads is None else grads[j][i].clone()
        r.opt_g.load_state_dict(replica_optimizer_state(self.opt_g, self.G, r.opt_g, i))
        r.opt_d.load_state_dict(replica_optimizer_state(self.opt_d, self.D, r.opt_d, i))
        r.step = self.step


class ReplicaCallbacks(Callback):
    """Drives each replica's own callbacks from the stacked trainer (see the module docstring)."""

    def __init__(self, st: StackedTrainer) -> None:
        self.st = st
        kinds = [[type(cb) for cb in r.callbacks] for r in st.replicas]
        if any(k != kinds[0] for k in kinds):
            raise GankitError("--seeds needs the same kinds of callbacks, in the same order, on every replica")
        self.kinds = ["twin" if issubclass(t, _TWINS) else "every" if issubclass(t, _EVERY_STEP) else "due"
                      for t in kinds[0]]
        self.twins: dict[int, Callback] = {}
        #: (stacked trainer, twins) state versions, and the versions each replica was last synced to
        self._versions = (0, 0)
        self._seen: list[tuple[int, int]] = [(-1, -1)] * len(st.replicas)
        c = st.cfg
        self.every = [e for e in (getattr(c, "eval_every", 0), getattr(c, "checkpoint_every", 0),
                                  getattr(c, "health_every", 0), getattr(c, "log_every", 0)) if e]

    def _twin(self, j: int) -> Callback:
        reps = self.st.replicas
        cb = reps[0].callbacks[j]
        if isinstance(cb, EMA):  # the same average over the stacked generator, from the replicas' averages
            twin = type(cb)(self.st.G, cb.beta)
            twin.load_state_dict(stack_replicas(twin.state_dict(), [r.callbacks[j].state_dict() for r in reps],
                                                len(reps)))
            return twin
        return copy.deepcopy(cb)

    def pull(self, i: int) -> None:
        """Bring replica ``i`` (trainer and twinned callbacks) up to the stacked state where it moved."""
        st, r = self.st, self.st.replicas[i]
        if self._seen[i][0] != self._versions[0]:
            st.sync_replica(i)
        elif self._seen[i][1] != self._versions[1]:  # only the twins moved (e.g. the learning rates)
            for mine, stacked in ((r.opt_g, st.opt_g), (r.opt_d, st.opt_d)):
                copy_hyperparameters(mine.param_groups, stacked.param_groups)
        if self._seen[i][1] != self._versions[1]:
            for j, twin in self.twins.items():
                cb = r.callbacks[j]
                if hasattr(twin, "state_dict") and hasattr(cb, "load_state_dict"):
                    cb.load_state_dict(take_replica(cb.state_dict(), twin.state_dict(), i, len(st.replicas)))
        self._seen[i] = self._versions

    def on_train_start(self, st: Trainer) -> None:
        reps = self.st.replicas
        self.twins = {j: self._twin(j) for j, kind in enumerate(self.kinds) if kind == "twin"}
        for r in reps:
            for cb in r.callbacks:
                cb.on_train_start(r)
        for twin in self.twins.values():
            twin.on_train_start(self.st)
        self._versions = (self._versions[0] + 1, self._versions[1] + 1)

    def on_step_end(self, st: Trainer) -> None:
        s = self.st
        self._versions = (self._versions[0] + 1, self._versions[1] + 1)
        per = {k: v.unbind(0) for k, v in s.logs.items()}  # 0-d views, as a lone trainer logs them
        for i, r in enumerate(s.replicas):
            r.step = s.step
            pending = r.pending
            for k, vals in per.items():
                pending.setdefault(k, []).append(vals[i])
        due = s.step >= s.cfg.steps or any(s.step % e == 0 for e in self.every)
        for j, kind in enumerate(self.kinds):
            if kind == "twin":
                self.twins[j].on_step_end(s)
                self._versions = (self._versions[0], self._versions[1] + 1)
            elif kind == "every":
                for r in s.replicas:
                    r.callbacks[j].on_step_end(r)
            elif due:
                for i, r in enumerate(s.replicas):
                    self.pull(i)
                    r.callbacks[j].on_step_end(r)

    def _all(self, hook: str) -> None:
        for i, r in enumerate(self.st.replicas):
            self.pull(i)
            if hook == "on_interrupt":
                r.interrupted = True
            for cb in r.callbacks:
                getattr(cb, hook)(r)

    def on_train_end(self, st: Trainer) -> None:
        self._all("on_train_end")

    def on_interrupt(self, st: Trainer) -> None:
        self._all("on_interrupt")

    def on_error(self, st: Trainer, exc: BaseException) -> None:
        # no sync: a replica's health guard may just have restored that replica's last good state
        for r in self.st.replicas:
            for cb in r.callbacks:
                getattr(cb, "on_error", lambda t, e: None)(r, exc)


def fit_replicas(replicas: list[Trainer], progress: bool = False) -> StackedTrainer:
    """Train N replica trainers together; leave each as its own ``replica.fit()`` would have.

    Parameters
    ----------
    replicas : list of Trainer
        One trainer per seed (same configuration apart from ``train.seed``), each with its
        own callbacks.
    progress : bool
        Show one progress bar for all replicas (mean losses).

    Returns
    -------
    StackedTrainer
        The stacked trainer (its ``replicas`` are the trainers passed in).

    Raises
    ------
    TrainingInterrupted
        After Ctrl-C, once every replica's callbacks ran ``on_interrupt`` (checkpoints saved).
    """
    st = StackedTrainer(replicas, [ProgressBar()] if progress else None)
    st.fit()
    return st
