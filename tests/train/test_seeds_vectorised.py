"""``--seeds N``: N replicas trained by :func:`fit_replicas` equal N separate ``Trainer.fit()`` runs."""

from __future__ import annotations

import signal
from dataclasses import replace

import pytest
import torch

from gankit.config import RunConfig, apply_overrides
from gankit.data.toy import make_source
from gankit.errors import GankitError
from gankit.models.mlp import MLPDiscriminator, MLPGenerator, make_mlp
from gankit.models.pack import Packed, packed_shape
from gankit.objectives import make_objective
from gankit.train.averaging import EMA, LRSchedule
from gankit.train.callbacks import Checkpointer, History
from gankit.train.checkpoint import list_checkpoints, load_latest
from gankit.train.health import HealthGuard
from gankit.train.seeds import StackedTrainer, check_supported, fit_replicas
from gankit.train.stacked import StackedMLP, StackedMLPFunction
from gankit.train.trainer import Callback, Trainer, TrainingInterrupted, seed_everything

SMALL = ["train.steps=12", "train.batch_size=32", "train.eval_every=4", "train.checkpoint_every=6",
         "train.health_every=5", "train.log_every=3", "model.g_width=16", "model.d_width=16", "model.g_depth=2", "model.d_depth=2"]


class CtrlCAt(Callback):
    """Ctrl-C at ``step`` of the replica with ``seed`` (any seed if ``None``), as a user's Ctrl-C between steps."""

    def __init__(self, step: int, seed: int | None) -> None:
        self.at, self.seed = step, seed

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.at and self.seed in (None, trainer.cfg.seed):
            signal.raise_signal(signal.SIGINT)


def replica(cfg: RunConfig, seed: int, folder, extra: list[Callback] = ()) -> tuple[Trainer, EMA | None]:
    """One seed's trainer and callbacks, built as a lone run builds them (seed, models, objective, callbacks)."""
    c = replace(cfg, train=replace(cfg.train, seed=seed))
    source = make_source(c.data.name)
    seed_everything(seed)
    G, D = make_mlp(c.model, source.shape)
    if c.model.pack > 1:
        D = Packed(make_mlp(c.model, packed_shape(source.shape, c.model.pack))[1], c.model.pack)
    obj = make_objective(c.objective)  # with its penalties (R1, R2) as a lone run builds it
    t = Trainer(G, D, obj, source, c.train)
    ema = EMA(G, c.train.ema) if c.train.ema else None
    z, x = torch.randn(64, G.latent_dim, generator=torch.Generator().manual_seed(1)), source.sample(64, torch.Generator())

    def evaluate(tr: Trainer) -> dict[str, float]:  # reads the averaged G, D and the learning rate at record time
        with torch.no_grad():
            return {"g": float((ema.model if ema else tr.G)(z).mean()), "d": float(tr.D(x.repeat(c.model.pack, 1)).mean()),
                    "lr_d": tr.opt_d.param_groups[0]["lr"]}

    t.callbacks = [HealthGuard(c.train)]
    t.callbacks += [LRSchedule(c.train.lr_schedule, c.train.lr_final)] if c.train.lr_schedule != "constant" else []
    t.callbacks += [ema] if ema else []
    t.callbacks += [History(c.train.eval_every, evaluate, log_every=c.train.log_every),
                    Checkpointer(folder, c.train.checkpoint_every, 10, lambda: {"G_ema": ema.state_dict()} if ema else {}),
                    *extra]
    return t, ema


def assert_close(a, b, where=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{where}[{k}]")
    elif torch.is_tensor(a):
        assert a.shape == b.shape, where
        assert torch.allclose(a.double(), b.double(), atol=1e-5, rtol=0), where
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-5), where
    else:
        assert a == b, where


def check_equal_to_separate(tmp_path, cfg, n, extra=lambda vectorised: []):
    seeds = [3 + i for i in range(n)]
    vec = [replica(cfg, s, tmp_path / f"vec{s}", extra(True)) for s in seeds]
    sep = [replica(cfg, s, tmp_path / f"sep{s}", extra(False)) for s in seeds]
    n_extra = len(extra(True))
    outcome = []
    for fit in (lambda: fit_replicas([t for t, _ in vec]), *[t.fit for t, _ in sep]):
        try:
            fit()
            outcome.append(None)
        except TrainingInterrupted as exc:
            outcome.append(str(exc))
    for s, (tv, ev), (ts, es) in zip(seeds, vec, sep, strict=True):
        a, b = tv.state_dict(), ts.state_dict()
        for k in ("step", "G", "D", "opt_g", "opt_d", "pending"):
            assert_close(a[k], b[k], f"seed {s} {k}")
        assert torch.equal(a["rng"]["data"], b["rng"]["data"]) and torch.equal(a["rng"]["noise"], b["rng"]["noise"])
        assert tv.interrupted == ts.interrupted
        hv, hs = tv.callbacks[-2 - n_extra], ts.callbacks[-2 - n_extra]
        assert [r["step"] for r in hv.records] == [r["step"] for r in hs.records]
        assert_close([{k: v for k, v in r.items() if k != "time"} for r in hv.records],
                     [{k: v for k, v in r.items() if k != "time"} for r in hs.records], f"seed {s} history")
        assert [st for st, _ in list_checkpoints(tmp_path / f"vec{s}")] == [st for st, _ in list_checkpoints(tmp_path / f"sep{s}")]
        ca, cb = load_latest(tmp_path / f"vec{s}"), load_latest(tmp_path / f"sep{s}")
        assert_close({k: ca[k] for k in ("step", "G", "D", "opt_g")}, {k: cb[k] for k in ("step", "G", "D", "opt_g")})
        if ev is not None:
            assert_close(ev.state_dict(), es.state_dict(), f"seed {s} ema")
            assert_close(ca["G_ema"], cb["G_ema"], f"seed {s} checkpointed ema")
    return outcome


@pytest.mark.parametrize("extra,n", [([], 3),  # the default objective (ns) with Adam
                                     (["model.pack=2", "objective.r1=1.0", "train.ema=0.9", "train.lr_schedule=linear",
                                       "train.lr_final=0.1"], 2),
                                     (["objective.r2=0.5", "model.scale=2.0", "train.lr_schedule=cosine"], 2),
                                     (["objective.r1=1.0", "objective.r1_every=3", "train.d_steps=2"], 2),  # lazy R1
                                     (["objective.name=minimax", "train.d_steps=2"], 2),
                                     (["objective.name=fgan:kl", "train.optimizer=rmsprop"], 2),
                                     (["train.optimizer=sgd", "model.activation=leaky_relu"], 2),
                                     (["objective.name=wgan", "train.d_steps=2", "train.optimizer=sgd"], 2),  # (Adam turns the rounding of
                                     # near-zero gradients of clipped weights into steps of size lr)
                                     (["objective.name=hinge", "model.activation=tanh"], 2)])
def test_vectorised_seeds_equal_separate_runs(tmp_path, extra, n):
    cfg = apply_overrides(RunConfig(), SMALL + extra)
    assert check_equal_to_separate(tmp_path, cfg, n) == [None] * (n + 1)


def test_ctrl_c_stops_every_replica_as_a_lone_run_stops(tmp_path):
    cfg = apply_overrides(RunConfig(), SMALL + ["train.ema=0.5"])
    # one Ctrl-C (raised by seed 4's callback) stops every replica after step 6, as it stops every lone run
    outcome = check_equal_to_separate(tmp_path, cfg, 2, extra=lambda vectorised: [CtrlCAt(6, 4 if vectorised else None)])
    assert outcome == ["stopped at step 6"] * 3


def test_stacked_trainer_shows_one_progress_bar(tmp_path, capsys):
    cfg = apply_overrides(RunConfig(), SMALL + ["train.steps=3"])
    reps = [replica(cfg, s, tmp_path)[0] for s in (0, 1)]
    for r in reps:
        r.callbacks = []
    st = fit_replicas(reps, progress=True)
    assert isinstance(st, StackedTrainer) and st.step == 3 and [r.step for r in reps] == [3, 3]
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize("bad,why", [(["model.name=dcgan"], "model.name=dcgan"),
                                     (["objective.name=wgan-gp"], "global generator"),
                                     (["objective.name=fgan:kl", "objective.gp_weight=1.0"], "objective.gp_weight > 0"),
                                     (["model.spectral_norm=true"], "model.spectral_norm"),
                                     (["train.on_nan=rollback"], "train.on_nan=stop"),
                                     (["train.compile=true"], "train.compile"),
                                     (["train.precision=bf16"], "fp32 only")])
def test_refusals_name_the_setting(bad, why):
    with pytest.raises(GankitError, match=why):
        check_supported(apply_overrides(RunConfig(), bad), 2)
    with pytest.raises(GankitError, match="--seeds must be >= 1"):
        check_supported(RunConfig(), 0)
    check_supported(apply_overrides(RunConfig(), ["model.pack=4", "objective.r1=1", "train.ema=0.99"]), 2)
    with pytest.raises(GankitError, match="model.name=auto"):  # auto on images is the DCGAN
        check_supported(apply_overrides(RunConfig(), ["model.name=auto"]), 2, data_shape=(3, 8, 8))


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "tanh", "silu"])
@pytest.mark.parametrize("kind", ["G", "D"])
def test_stacked_mlp_function_gradcheck(act, kind):
    """The fast path's one autograd node (the only hand-written backward) against finite differences."""
    torch.manual_seed(0)
    if kind == "G":  # a skinny first layer (3 inputs) and a 2-wide output
        nets = [MLPGenerator(3, (2,), width=10, depth=2, activation=act).net.double() for _ in range(2)]
        mlp, x = StackedMLP(nets, (2,)), torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    else:  # one logit per input: the outer-product input gradient
        nets = [MLPDiscriminator((9,), width=10, depth=2, activation=act).net.double() for _ in range(2)]
        mlp, x = StackedMLP(nets, None), torch.randn(2, 4, 9, dtype=torch.float64, requires_grad=True)
    assert mlp.fast
    # (gradcheck perturbs `flat` in place; the layers are views of it)
    assert torch.autograd.gradcheck(lambda x, flat: StackedMLPFunction.apply(x, mlp, flat), (x, mlp.flat))
    # the fast path equals plain autograd on each replica's own network, values and gradients
    out = mlp(x)
    (gx, gflat) = torch.autograd.grad(out.sum(), (x, mlp.flat))
    for i, net in enumerate(nets):
        xi = x[i].detach().requires_grad_(True)
        ref = net(xi).reshape(out[i].shape)
        assert torch.allclose(out[i], ref, atol=1e-12)
        grads = torch.autograd.grad(ref.sum(), [xi, *net.parameters()])
        assert torch.allclose(gx[i], grads[0], atol=1e-12)
        for g, r in zip(mlp.split(gflat), grads[1:], strict=True):
            assert torch.allclose(g[i], r, atol=1e-12)


def test_stacked_mlp_function_buffers_are_safe():
    """A forward while another graph is pending uses fresh tensors; a retained graph whose buffers were retaken raises."""
    torch.manual_seed(0)
    mlp = StackedMLP([MLPDiscriminator((2,), width=8, depth=2).net for _ in range(3)], None)
    x, y = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    a, b = mlp(x), mlp(y)  # a holds the buffers until its backward; b must not overwrite them
    ga = torch.autograd.grad(a.sum(), mlp.flat, retain_graph=True)[0]
    gb = torch.autograd.grad(b.sum(), mlp.flat)[0]
    with torch.no_grad():
        assert torch.allclose(a, mlp(x)) and torch.allclose(b, mlp(y))
    fresh = StackedMLP([MLPDiscriminator((2,), width=8, depth=2).net for _ in range(3)], None)
    with torch.no_grad():
        fresh.flat.copy_(mlp.flat)
    assert torch.allclose(ga, torch.autograd.grad(fresh(x).sum(), fresh.flat)[0], atol=1e-6)
    assert torch.allclose(gb, torch.autograd.grad(fresh(y).sum(), fresh.flat)[0], atol=1e-6)
    assert torch.equal(torch.autograd.grad(a.sum(), mlp.flat, retain_graph=True)[0], ga)  # buffers untouched
    mlp(y)  # takes the buffers
    with pytest.raises(RuntimeError, match="reused this graph's activation buffers"):
        torch.autograd.grad(a.sum(), mlp.flat)


def test_replicas_part_way_through_continue_as_lone_runs(tmp_path):
    """Replicas with optimiser moments, an EMA and a step already (e.g. resumed) continue exactly as lone runs."""
    cfg = apply_overrides(RunConfig(), SMALL + ["train.steps=5", "train.ema=0.8", "train.lr_schedule=linear"])
    vec = [replica(cfg, s, tmp_path / f"vec{s}") for s in (1, 2)]
    sep = [replica(cfg, s, tmp_path / f"sep{s}") for s in (1, 2)]
    for t, _ in vec + sep:
        t.fit()  # 5 steps alone
        t.cfg = replace(t.cfg, steps=12)
    fit_replicas([t for t, _ in vec])
    for (tv, ev), (ts, es) in zip(vec, sep, strict=True):
        ts.fit()
        a, b = tv.state_dict(), ts.state_dict()
        assert a["step"] == b["step"] == 12
        for k in ("G", "D", "opt_g", "opt_d"):
            assert_close(a[k], b[k], k)
        assert_close(ev.state_dict(), es.state_dict(), "ema")
