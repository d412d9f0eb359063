import numpy as np
import pytest
import torch

from gankit import GAN, GankitError

TINY = dict(steps=20, batch_size=32, g_width=16, d_width=16, g_depth=1, d_depth=1, progress=False, eval_every=0)


def test_refuses_before_fit():
    gan = GAN()
    with pytest.raises(GankitError, match="not fitted"):
        gan.sample(3)
    with pytest.raises(GankitError, match="not fitted"):
        gan.score(np.zeros((2, 2)))


def test_fit_returns_self_and_learned_state():
    gan = GAN(objective="ns", **TINY, **{"eval.n_samples": 100, "eval.w1_samples": 50})
    assert gan.fit("ring8") is gan
    x = gan.sample(10, seed=1)
    assert x.shape == (10, 2) and torch.equal(x, gan.sample(10, seed=1))
    assert np.isfinite(gan.score(x))
    assert gan.n_steps_ == 20 and gan.history_[-1]["step"] == 20


def test_fit_on_a_users_array():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 3)).astype(np.float32)
    gan = GAN(**TINY, **{"eval.n_samples": 100, "eval.w1_samples": 50}).fit(data)
    assert gan.sample(4).shape == (4, 3)
    bad = data.copy()
    bad[3, 1] = np.nan
    with pytest.raises(GankitError, match="NaN"):
        GAN(**TINY).fit(bad)


def test_unknown_parameter():
    with pytest.raises(GankitError, match="unknown parameter"):
        GAN(stepz=3).fit("ring8")


def test_fit_stops_a_diverged_run_at_the_step_with_one_message():
    """GAN.fit runs the same health guard as `gankit train`: NaN stops it with TrainingDiverged."""
    from gankit.train.health import TrainingDiverged

    gan = GAN(**TINY, **{"lr_d": 1e30, "lr_g": 1e30, "train.health_every": 1, "eval.n_samples": 100,
                         "eval.w1_samples": 50})
    with pytest.raises(TrainingDiverged) as info:
        gan.fit("ring8")
    assert "non-finite" in str(info.value) or "nan" in str(info.value).lower()
    assert not hasattr(gan, "generator_")  # no half-trained model is handed back


def test_an_error_inside_training_reaches_every_callback():
    """Trainer.fit calls on_error before re-raising (the progress bar closes, files flush)."""
    from gankit.run import build
    from gankit.train.callbacks import ProgressBar
    from gankit.train.trainer import Callback, Trainer

    cfg = GAN(**TINY)._resolve("ring8")
    b = build(cfg)
    seen: list[str] = []

    class Boom(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 3:
                raise RuntimeError("boom")

        def on_error(self, trainer, exc):
            seen.append(str(exc))

    bar = ProgressBar()
    t = Trainer(b.G, b.D, b.objective, b.source, cfg.train, [bar, Boom()])
    with pytest.raises(RuntimeError):
        t.fit()
    assert seen == ["boom"] and bar.bar is None
