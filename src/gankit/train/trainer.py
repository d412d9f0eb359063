"""The loop of Goodfellow et al.'s Algorithm 1, and nothing else.

Each generator step: ``objective.critic_steps(step, train.d_steps)`` discriminator updates
on a real batch and a no-grad fake batch, then one generator update with D's parameters
frozen. Logging, evaluation and checkpoints hang on :class:`Callback` objects; losses stay
tensors (no host sync per step). Ctrl-C stops the loop between two steps.
"""

from __future__ import annotations

import random
import signal
import threading
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data.toy import DataSource
from ..errors import GankitError
from ..models.conditional import attach_labels
from ..objectives.acgan import acgan_discriminator_loss, acgan_generator_loss
from ..objectives.base import Objective

__all__ = ["Trainer", "Callback", "TrainingInterrupted", "check_precision", "make_optimizer", "seed_everything"]


class TrainingInterrupted(Exception):
    """Raised by :meth:`Trainer.fit` after Ctrl-C, once callbacks have saved the state."""


class Callback:
    """Hooks called by the trainer; override what you need."""

    def on_train_start(self, trainer: Trainer) -> None: ...
    def on_step_end(self, trainer: Trainer) -> None: ...
    def on_train_end(self, trainer: Trainer) -> None: ...
    def on_interrupt(self, trainer: Trainer) -> None: ...
    def on_error(self, trainer: Trainer, exc: BaseException) -> None:
        """Training stopped by an exception (e.g. :class:`~gankit.train.health.TrainingDiverged`)."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch's global generators (model initialisation uses torch's)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def check_precision(precision: str, device: torch.device) -> None:
    """fp16 autocast needs CUDA (a GradScaler on CPU is not supported); raise :class:`GankitError` otherwise."""
    if precision == "fp16" and torch.device(device).type != "cuda":
        raise GankitError(f"train.precision=fp16 needs a CUDA device, got {device}; use fp32 or bf16 on CPU")


def make_optimizer(name: str, params: Any, lr: float, betas: tuple[float, float],
                   **impl: bool) -> torch.optim.Optimizer:
    """The optimiser ``name`` (adam, rmsprop, sgd); ``impl`` passes ``fused=``/``foreach=`` through."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, **impl)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, **impl)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=betas[0], **impl)
    raise ValueError(name)


class Trainer:
    """Trains ``G`` and ``D`` on ``source`` with ``objective`` (Algorithm 1).

    Parameters
    ----------
    G, D : nn.Module
        Generator (``latent_dim`` attribute; (batch, latent) → (batch, *shape)) and
        discriminator ((batch, *shape) → (batch,) logits).
    objective : Objective
    source : DataSource
    train : TrainConfig
        ``steps``, ``batch_size``, ``d_steps``, optimiser settings and ``seed``.
    callbacks : list of Callback
    """

    def __init__(self, G: nn.Module, D: nn.Module, objective: Objective, source: DataSource, train: Any,
                 callbacks: list[Callback] | None = None, device: torch.device | str = "cpu") -> None:
        self.G, self.D, self.objective, self.source, self.cfg = G, D, objective, source, train
        self.device = torch.device(device)
        self.callbacks = list(callbacks or [])
        betas = (train.beta1, train.beta2)
        self.opt_g = make_optimizer(train.optimizer, G.parameters(), train.lr_g, betas)
        self.opt_d = make_optimizer(train.optimizer, D.parameters(), train.lr_d, betas)
        # Independent streams: real data and latent noise (checkpointed with the weights).
        self.data_gen = torch.Generator().manual_seed(train.seed)
        self.noise_gen = torch.Generator(device=self.device).manual_seed(train.seed + 7919)
        #: samples per batch: ``batch_size`` × the discriminator's pack size (PacGAN; 1 without packing)
        self.n_batch = train.batch_size * int(getattr(D, "pack", 1))
        self.step = 0
        #: the modules the steps call: ``G``/``D`` themselves, or DistributedDataParallel wrappers
        #: of them (``gankit.train.distributed``); ``G``/``D`` stay the plain modules (state, sampling)
        self.G_train, self.D_train = G, D
        self._d_params = list(D.parameters())
        #: classes of a conditional generator (``num_classes``; 0: unconditional); D then judges joints
        #: (sample, one-hot class), real batches carry their labels and G's are drawn uniformly
        self.num_classes = int(getattr(G, "num_classes", 0) or 0)
        self._acgan = callable(getattr(D, "class_logits", None))
        self._setup_speed(getattr(train, "precision", "fp32"), bool(getattr(train, "compile", False)))
        #: per-step loss tensors since the last :meth:`pop_logs` (no host sync in the loop)
        self.pending: dict[str, list[Tensor]] = {}
        self._stop = False
        self.interrupted = False

    def real_batch(self) -> Tensor:
        x = self.source.sample(self.n_batch, self.data_gen)  # (batch, *shape)
        return x.to(self.device, non_blocking=True)

    def labelled_batch(self) -> tuple[Tensor, Tensor]:
        """A real batch and its classes (a conditional run)."""
        x, y = self.source.sample_labeled(self.n_batch, self.data_gen)  # (batch, *shape), (batch,)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def fake_labels(self, n: int) -> Tensor:
        """Classes for the generator step, uniform over the classes."""
        return torch.randint(0, self.num_classes, (n,), generator=self.noise_gen, device=self.device)

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.G.latent_dim, generator=self.noise_gen, device=self.device)  # (n, latent)

    def _setup_speed(self, precision: str, compile: bool) -> None:
        """Autocast, GradScaler (fp16) and ``torch.compile`` of the two steps (docs/speed.md)."""
        dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        check_precision(precision, self.device)
        dev_type = self.device.type
        self._autocast = (lambda: torch.autocast(dev_type, dtype=dtype)) if dtype is not None else nullcontext
        # fp16 gradients underflow: scale the losses, one scaler per optimiser (two games).
        scaler = (lambda: torch.amp.GradScaler(dev_type)) if precision == "fp16" else (lambda: None)
        self.scaler_d, self.scaler_g = scaler(), scaler()
        obj = self.objective

        def fakes(z: Tensor, y: Tensor | None = None) -> Tensor:
            return self.G_train(z) if y is None else self.G_train(z, y)

        def d_loss(real: Tensor, fake: Tensor, y: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
            if y is None:
                return obj.discriminator_loss(self.D_train, real, fake)
            loss, logs = obj.discriminator_loss(self.D_train, attach_labels(real, y, self.num_classes),
                                                attach_labels(fake, y, self.num_classes))
            if self._acgan:  # the auxiliary classifier's loss on both batches, one pass
                logits = self.D.class_logits(torch.cat([real, fake]))
                ac_loss = acgan_discriminator_loss(*logits.chunk(2), y)
                loss, logs = loss + ac_loss, {**logs, "ac_loss": ac_loss.detach()}
            return loss, logs

        def g_loss(z: Tensor, y: Tensor | None = None) -> Tensor:
            # D is not updated in this step: call the plain module (a DDP wrapper would wait for D's gradients).
            if y is None:
                return obj.generator_loss(self.D, self.G_train(z))
            fake = self.G_train(z, y)
            loss = obj.generator_loss(self.D, attach_labels(fake, y, self.num_classes))
            return loss + acgan_generator_loss(self.D.class_logits(fake), y) if self._acgan else loss

        self._fakes, self._d_loss, self._g_loss = fakes, d_loss, g_loss
        if compile:
            self._fakes, self._d_loss, self._g_loss = (torch.compile(f) for f in (fakes, d_loss, g_loss))

    def _update(self, loss: Tensor, opt: torch.optim.Optimizer, scaler: Any) -> None:
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    def train_step(self) -> None:
        obj, bs = self.objective, self.n_batch
        for _ in range(obj.critic_steps(self.step, self.cfg.d_steps)):
            # Discriminator: ascend E log D(x) + E log(1 - D(G(z))) (or the objective's analogue), G fixed.
            # a conditional run: the fakes are drawn for the real batch's classes (TF-GAN's ACGAN convention)
            real, y = self.labelled_batch() if self.num_classes else (self.real_batch(), None)
            with torch.no_grad(), self._autocast():
                fake = self._fakes(self.noise(bs), y)
            with self._autocast():
                d_loss, logs = self._d_loss(real, fake, y)
            self._update(d_loss, self.opt_d, self.scaler_d)
            obj.after_discriminator_step(self.D)
        # Generator: descend the objective's generator loss, D fixed.
        d_params = self._d_params
        for q in d_params:  # (a cached list: Module.requires_grad_ walks the module tree every step)
            q.requires_grad_(False)
        with self._autocast():
            g_loss = self._g_loss(self.noise(bs), self.fake_labels(bs) if self.num_classes else None)
        self._update(g_loss, self.opt_g, self.scaler_g)
        for q in d_params:
            q.requires_grad_(True)
        for k, v in {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), **logs}.items():
            self.pending.setdefault(k, []).append(v)

    def pop_logs(self) -> dict[str, float]:
        """Means of the losses logged since the last call (one host sync)."""
        out = {k: float(torch.stack(v).float().mean()) for k, v in self.pending.items() if v}
        self.pending = {}
        return out

    def request_stop(self) -> None:
        """Ask the loop to stop after the current step (what Ctrl-C does)."""
        self._stop = True

    def fit(self) -> Trainer:
        """Run until ``train.steps`` generator steps are done; returns ``self``."""
        self._stop = False
        old_handler = None
        if threading.current_thread() is threading.main_thread():
            old_handler = signal.getsignal(signal.SIGINT)

            def on_sigint(signum: int, frame: Any) -> None:
                if self._stop:  # second Ctrl-C: give up at once
                    raise KeyboardInterrupt
                self._stop = True

            signal.signal(signal.SIGINT, on_sigint)
        try:
            for cb in self.callbacks:
                cb.on_train_start(self)
            total = self.cfg.steps
            while self.step < total and not self._stop:
                self.train_step()
                self.step += 1
                for cb in self.callbacks:
                    cb.on_step_end(self)
        except BaseException as exc:  # close bars and files before the error reaches the user
            for cb in self.callbacks:
                getattr(cb, "on_error", lambda t, e: None)(self, exc)
            raise
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGINT, old_handler)
        if self._stop and self.step < self.cfg.steps:
            self.interrupted = True
            for cb in self.callbacks:
                cb.on_interrupt(self)
            raise TrainingInterrupted(f"stopped at step {self.step}")
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit for bit: weights, optimisers, every RNG state."""
        np_state = np.random.get_state()
        return {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": {
                "data": self.data_gen.get_state(),
                "noise": self.noise_gen.get_state(),
                "torch": torch.get_rng_state(),
                "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                          "pos": int(np_state[2]), "has_gauss": int(np_state[3]), "cached": float(np_state[4])},
                "python": random.getstate(),
            },
            **({"scaler_d": self.scaler_d.state_dict(), "scaler_g": self.scaler_g.state_dict()}
               if self.scaler_d is not None else {}),
            # losses logged since the last history record, so a resumed run writes the same history
            "pending": {k: torch.stack(v).detach() for k, v in self.pending.items() if v},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("G", "D", "opt_g", "opt_d"):
            getattr(self, key).load_state_dict(state[key])
        rng = state["rng"]
        self.data_gen.set_state(rng["data"])
        self.noise_gen.set_state(rng["noise"].cpu())
        torch.set_rng_state(rng["torch"])
        n = rng["numpy"]
        np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
        py = rng["python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
        if self.scaler_d is not None and "scaler_d" in state:
            self.scaler_d.load_state_dict(state["scaler_d"])
            self.scaler_g.load_state_dict(state["scaler_g"])
        self.step = int(state["step"])
        self.pending = {k: list(v.to(self.device).unbind(0)) for k, v in state.get("pending", {}).items()}
