"""Class-conditional generators and discriminators: projection (Miyato & Koyama 2018) and ACGAN (Odena et al. 2017).

A conditional GAN matches the joint distribution of (sample, class). The trainer hands the
discriminator that pair as one tensor, the **joint** ``(batch, prod(shape) + K)``: the
flattened sample followed by the one-hot class (:func:`attach_labels`), so every objective and
penalty of :mod:`gankit.objectives` works on it unchanged. The discriminator splits the pair
again (:func:`split_labels`) and detaches the class part, so gradient penalties see the sample
alone. Given a plain sample ``(batch, *shape)`` (pictures, diagnostics), it judges it under the
uniform mixture of the classes.

- :class:`ConditionalGenerator`: ``G(z, y) = base(concat(z, embed(y)))``, ``base`` an MLP or
  DCGAN generator with ``latent_dim + embed_dim`` inputs. ``G(z)`` draws classes ``0, 1, ...,
  K-1, 0, ...`` in turn (balanced, deterministic), so every sampler and metric sees the mixture
  of the classes; ``G.for_class(k)`` is the generator of class ``k`` alone (the protocol of
  :mod:`gankit.sampling.conditional`).
- :class:`ProjectionDiscriminator`: ``D(x, y) = ψ(φ(x)) + ⟨E y, φ(x)⟩`` with φ the base
  discriminator's features, ψ its last linear layer, ``E`` a class embedding.
- :class:`ACGANDiscriminator`: ``D(x) = ψ(φ(x))`` (the class is not an input) and a class head
  ``class_logits(x) = C φ(x)``; the trainer adds the losses of :mod:`gankit.objectives.acgan`.

>>> import torch
>>> from gankit.models.mlp import MLPDiscriminator, MLPGenerator
>>> G = ConditionalGenerator(MLPGenerator(2 + 8, (2,), 16, 1), latent_dim=2, num_classes=3, embed_dim=8)
>>> D = ProjectionDiscriminator(MLPDiscriminator((2,), 16, 1), num_classes=3)
>>> y = torch.tensor([0, 2, 1, 1])
>>> x = G(torch.randn(4, 2), y)
>>> tuple(attach_labels(x, y, 3).shape), tuple(D(attach_labels(x, y, 3)).shape)
((4, 5), (4,))
>>> tuple(G.for_class(2)(torch.randn(6, 2)).shape)
(6, 2)
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import GankitError

__all__ = ["ConditionalGenerator", "ClassGenerator", "ProjectionDiscriminator", "ACGANDiscriminator",
           "attach_labels", "split_labels", "balanced_labels", "make_conditional", "embed_dim_for", "CONDITIONAL_KINDS",
           "MAX_CLASSES"]

#: the values of ``model.conditional`` that make a conditional model ("" = unconditional)
CONDITIONAL_KINDS = ("projection", "acgan")
#: most classes a conditional model takes (labels of a user's file are checked against it)
MAX_CLASSES = 1000


def attach_labels(x: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """The joint ``(batch, prod(shape) + K)``: each flattened sample followed by its one-hot class."""
    onehot = F.one_hot(labels.long(), num_classes).to(x.dtype)  # (batch, K)
    return torch.cat([x.reshape(x.shape[0], -1), onehot], dim=1)


def split_labels(xy: Tensor, shape: tuple[int, ...], num_classes: int) -> tuple[Tensor, Tensor]:
    """``(x (batch, *shape), y (batch, K))`` of a joint, or of a plain sample (then y is uniform, 1/K each).

    The class part is detached: a gradient with respect to the joint is the sample's alone.
    """
    d = math.prod(shape)
    if xy.ndim == 2 and xy.shape[1] == d + num_classes:
        return xy[:, :d].reshape(xy.shape[0], *shape), xy[:, d:].detach()
    if tuple(xy.shape[1:]) != tuple(shape):
        raise ValueError(f"expected samples of shape {tuple(shape)} or joints of {d + num_classes} features, "
                         f"got {tuple(xy.shape)}")
    return xy, xy.new_full((xy.shape[0], num_classes), 1.0 / num_classes)


def balanced_labels(n: int, num_classes: int, device: torch.device | str | None = None) -> Tensor:
    """``0, 1, ..., K-1, 0, 1, ...`` (n labels): every class in turn."""
    return torch.arange(n, device=device) % num_classes


def _check_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 1 <= num_classes <= MAX_CLASSES:
        raise GankitError(f"a conditional model needs between 1 and {MAX_CLASSES} classes, got {num_classes!r}")
    return num_classes


class ConditionalGenerator(nn.Module):
    """``G(z, y)``: latent (batch, latent_dim) and classes (batch,) → samples; ``G(z)`` cycles through the classes.

    Parameters
    ----------
    base : nn.Module
        A generator taking ``latent_dim + embed_dim`` inputs (its ``data_shape`` is the sample shape).
    latent_dim, num_classes, embed_dim : int
    """

    def __init__(self, base: nn.Module, latent_dim: int, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.num_classes = _check_classes(num_classes)
        self.latent_dim, self.embed_dim = int(latent_dim), int(embed_dim)
        self.data_shape = tuple(base.data_shape)
        self.net = base
        self.embed = nn.Embedding(num_classes, embed_dim)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is None:
            labels = balanced_labels(z.shape[0], self.num_classes, z.device)
        return self.net(torch.cat([z, self.embed(labels.long()).to(z.dtype)], dim=1))

    def for_class(self, label: int) -> ClassGenerator:
        """The generator of class ``label`` alone (same weights, same ``latent_dim``)."""
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < self.num_classes:
            raise GankitError(f"class must be an integer in [0, {self.num_classes - 1}], got {label!r}")
        return ClassGenerator(self, label)


class ClassGenerator(nn.Module):
    """``forward(z)`` draws class ``label`` of a :class:`ConditionalGenerator` (shares its weights)."""

    def __init__(self, parent: ConditionalGenerator, label: int) -> None:
        super().__init__()
        self.parent, self.label = parent, int(label)
        self.latent_dim, self.data_shape = parent.latent_dim, parent.data_shape
        self.train(parent.training)  # samplers restore the mode they found: the parent's

    def forward(self, z: Tensor) -> Tensor:
        return self.parent(z, torch.full((z.shape[0],), self.label, dtype=torch.long, device=z.device))


def _features_and_head(base: nn.Module) -> tuple[nn.Module, nn.Linear]:
    """φ and ψ of an MLP or DCGAN discriminator: its layers up to the last linear one, and that one."""
    if hasattr(base, "features") and isinstance(getattr(base, "head", None), nn.Linear):  # DCGAN
        return nn.Sequential(base.features, nn.Flatten(1)), base.head
    net = getattr(base, "net", None)
    if isinstance(net, nn.Sequential) and isinstance(net[-1], nn.Linear):  # MLP
        scale = float(getattr(base, "scale", 1.0))
        return nn.Sequential(_Scale(1.0 / scale), nn.Flatten(1), *net[:-1]), net[-1]
    raise GankitError(f"a conditional discriminator needs an mlp or dcgan base model, got {type(base).__name__}")


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor if self.factor != 1.0 else x


class _ConditionalCritic(nn.Module):
    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.num_classes = _check_classes(num_classes)
        self.data_shape = tuple(base.data_shape)
        self.features, self.head = _features_and_head(base)

    @property
    def feature_dim(self) -> int:
        return self.head.in_features


class ProjectionDiscriminator(_ConditionalCritic):
    """``D(x, y) = ψ(φ(x)) + ⟨E y, φ(x)⟩`` (Miyato & Koyama 2018) on a joint (see the module docstring)."""

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__(base, num_classes)
        self.embed = nn.Linear(num_classes, self.feature_dim, bias=False)  # E, applied to a (soft) one-hot y
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, xy: Tensor) -> Tensor:
        x, y = split_labels(xy, self.data_shape, self.num_classes)
        h = self.features(x)  # (batch, F)
        return self.head(h).squeeze(1) + (self.embed(y.to(h.dtype)) * h).sum(1)  # (batch,)


class ACGANDiscriminator(_ConditionalCritic):
    """``D(x) = ψ(φ(x))`` and the auxiliary classifier ``class_logits(x) = C φ(x)`` (Odena et al. 2017)."""

    def __init__(self, base: nn.Module, num_classes: int) -> None:
        super().__init__(base, num_classes)
        self.classifier = nn.Linear(self.feature_dim, num_classes)

    def forward(self, xy: Tensor) -> Tensor:
        x, _ = split_labels(xy, self.data_shape, self.num_classes)
        return self.head(self.features(x)).squeeze(1)

    def class_logits(self, xy: Tensor) -> Tensor:
        """Class logits ``(batch, K)`` of samples or joints (their class part is not used)."""
        x, _ = split_labels(xy, self.data_shape, self.num_classes)
        return self.classifier(self.features(x))


def embed_dim_for(num_classes: int) -> int:
    """Width of the generator's class embedding: one per class, at most 64."""
    return min(num_classes, 64)


def make_conditional(kind: str, make: object, cfg: object, shape: tuple[int, ...],
                     num_classes: int) -> tuple[nn.Module, nn.Module]:
    """``(G, D)`` of conditional kind ``kind`` (projection, acgan) around the models ``make(cfg, shape)`` builds."""
    if kind not in CONDITIONAL_KINDS:
        raise GankitError(f"model.conditional must be one of {', '.join(CONDITIONAL_KINDS)} or empty, got {kind!r}")
    _check_classes(num_classes)
    emb = embed_dim_for(num_classes)
    g_base, d_base = make(replace(cfg, latent_dim=cfg.latent_dim + emb), shape)
    G = ConditionalGenerator(g_base, cfg.latent_dim, num_classes, emb)
    D = ProjectionDiscriminator(d_base, num_classes) if kind == "projection" else ACGANDiscriminator(d_base, num_classes)
    return G, D
