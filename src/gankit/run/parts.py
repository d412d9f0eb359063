"""The parts of a run, built from its config: data source, G, D, objective and device."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..config import RunConfig
from ..data.toy import DataSource, make_source
from ..errors import GankitError
from ..models import apply_spectral_norm, resolve_model_name
from ..models.conditional import MAX_CLASSES, make_conditional
from ..models.pack import Packed, packed_shape
from ..models.vae import is_vae
from ..objectives import Objective, make_objective
from ..registry import MODELS
from ..train.trainer import seed_everything
from .preflight import check_names

__all__ = ["Parts", "build", "data_sources", "resolve_device", "default_out"]

#: model names whose second network is an encoder (the run has no objective)
VAE_MODELS = ("vae", "vae-conv", "autoencoder")


def resolve_device(name: str) -> torch.device:
    """``train.device`` → a device (``auto``: CUDA when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError(f"train.device={name!r} but no CUDA device is available; use train.device=cpu")
    return torch.device(name)


@dataclass
class Parts:
    """What a run trains: its config, data, networks and objective, on one device."""

    cfg: RunConfig
    source: DataSource
    G: nn.Module
    D: nn.Module
    objective: Objective
    device: torch.device
    #: the test split of an image data set (reference of the image metrics), else None
    eval_source: DataSource | None = None

    @property
    def is_vae(self) -> bool:
        """A VAE (or auto-encoder): D is the encoder, there is no discriminator."""
        return is_vae(self.G, self.D)


def data_sources(cfg: RunConfig) -> tuple[DataSource, DataSource | None]:
    """The data source of ``cfg`` and, for image data, its test split (else None)."""
    check_names(cfg)
    kwargs = {"path": cfg.data.path} if cfg.data.path else {}
    source = make_source(cfg.data.name, **kwargs)
    if len(source.shape) != 3 or not hasattr(source, "images"):
        return source, None
    # image data: the test split scores the run; k-NN precision/recall (k = 3) and covariances need >= 4 samples
    if cfg.eval.n_samples < 4:
        raise GankitError(f"eval.n_samples must be >= 4 for image data, got {cfg.eval.n_samples}")
    return source, make_source(cfg.data.name, split="test", **kwargs)


def build(cfg: RunConfig, source: DataSource | None = None) -> Parts:
    """Everything a run needs, validated before any work starts. Seeds the model initialisation.

    ``source`` replaces the data source named by ``cfg.data`` (a user's own data).
    """
    device = resolve_device(cfg.train.device)
    eval_source = None
    if source is None:
        source, eval_source = data_sources(cfg)
    objective = make_objective(cfg.objective)  # with its penalties (R1, R2, GP)
    seed_everything(cfg.train.seed)
    model_name = resolve_model_name(cfg.model.name, source.shape)  # "auto": dcgan for images, else mlp
    options = {"vae": cfg.vae} if model_name in VAE_MODELS else {}  # the auto-encoders' [vae] section
    if cfg.model.conditional:
        G, D = _conditional_models(cfg, model_name, source)
    else:
        G, D = MODELS.get(model_name)(cfg.model, source.shape, **options)
    if model_name in VAE_MODELS and (cfg.model.pack > 1 or cfg.model.spectral_norm):
        raise GankitError("model.pack and model.spectral_norm act on a discriminator, and an auto-encoder has "
                          "none; set model.pack=1 and model.spectral_norm=false (or use --preset plain)")
    if cfg.model.pack > 1:  # PacGAN: D judges `pack` samples concatenated along the first feature axis
        _, inner = MODELS.get(model_name)(cfg.model, packed_shape(source.shape, cfg.model.pack), **options)
        D = Packed(inner, cfg.model.pack)
    if cfg.model.spectral_norm:
        D = apply_spectral_norm(D)
    return Parts(cfg, source, G.to(device), D.to(device), objective, device, eval_source)


def _conditional_models(cfg: RunConfig, model_name: str, source: DataSource) -> tuple[nn.Module, nn.Module]:
    """G and D of ``model.conditional`` for a labelled data source (mixture modes, image labels, a labelled file)."""
    kind = cfg.model.conditional
    if model_name not in ("mlp", "dcgan"):
        raise GankitError(f"model.conditional={kind} works with the models mlp and dcgan, not {model_name!r}")
    if cfg.model.pack > 1:
        raise GankitError(f"model.conditional={kind} needs model.pack=1 (a pack would mix classes); "
                          f"set --set model.pack=1")
    n = getattr(source, "n_classes", None)
    if n is None or getattr(source, "sample_labeled", None) is None or getattr(source, "labels", True) is None:
        raise GankitError(f"model.conditional={kind} needs labelled data (ring8, grid25, digits, images with "
                          f"labels, or npz:FILE with arrays x and y); {cfg.data.name!r} has no labels")
    if not 1 <= int(n) <= MAX_CLASSES:
        raise GankitError(f"model.conditional={kind}: {cfg.data.name!r} has {n} classes; at most {MAX_CLASSES}")
    return make_conditional(kind, MODELS.get(model_name), cfg.model, source.shape, int(n))


def default_out(cfg: RunConfig, root: str | Path = "runs") -> Path:
    """``runs/<data>-<objective>-seed<seed>``, with a numeric suffix if it already exists."""
    data = cfg.data.name if "N(" not in cfg.data.name else "mixture1d"
    if ":" in data:  # images:PATH, idx:PATH -> images-<file or folder name>
        prefix, _, arg = data.partition(":")
        data = f"{prefix}-{Path(arg).name or 'data'}"
    game = cfg.model.name if cfg.model.name in VAE_MODELS else cfg.objective.name  # a VAE has no objective
    base = Path(root) / f"{data}-{game.replace(':', '_')}-seed{cfg.train.seed}"
    path, i = base, 2
    while path.exists():
        path = Path(f"{base}-{i}")
        i += 1
    return path
