"""The feature network of the image metrics: a small CNN trained on the data set's training split.

Inception weights cannot be downloaded here (REFERENCES.md), so the image metrics use a
classifier trained on the same domain, deterministically (fixed seed, epochs, batch order, one
thread): the same data gives the same weights and hash. The weights are cached atomically as
``$GANKIT_CACHE/classifier-<key>.pt`` (default ``~/.cache/gankit``), the key hashing the data,
architecture and :data:`RECIPE`; a missing, corrupt or unwritable cache means training in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import GankitError
from ..io import atomic_write_bytes

__all__ = ["FeatureClassifier", "SmallCNN", "get_classifier", "train_classifier", "weights_hash", "cache_dir",
           "RECIPE"]

#: the training recipe; part of the cache key
RECIPE = {"version": 1, "seed": 0, "epochs": 12, "batch_size": 64, "lr": 2e-3, "weight_decay": 1e-4, "feature_dim": 64}

_MEMO: dict[str, FeatureClassifier] = {}


class SmallCNN(nn.Module):
    """Conv(16) → Conv(32, stride 2) → Conv(64, stride 2) → mean → Linear(feature_dim) → Linear(classes)."""

    def __init__(self, in_channels: int, n_classes: int, feature_dim: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, n_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)  # (batch, feature_dim): the penultimate layer, the metrics' feature space

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))  # (batch, n_classes) logits


@dataclass
class FeatureClassifier:
    """A trained :class:`SmallCNN` with its provenance."""

    net: SmallCNN
    n_classes: int
    test_accuracy: float
    #: SHA-256 of the weights (hex); the "feature network hash" recorded with every metric
    hash: str
    #: where the weights came from: "trained", "cache"
    origin: str

    @torch.no_grad()
    def _batched(self, images: Tensor, fn: Any, batch: int = 1024) -> Tensor:
        self.net.eval()
        outs = [fn(images[i:i + batch].float().cpu()) for i in range(0, len(images), batch)]
        return torch.cat(outs) if outs else torch.empty(0)

    def features(self, images: Tensor) -> Tensor:
        """Penultimate-layer features ``(n, feature_dim)`` of images ``(n, C, H, W)`` in [-1, 1]."""
        return self._batched(images, self.net.features)

    def probabilities(self, images: Tensor) -> Tensor:
        """Class probabilities ``(n, n_classes)``."""
        return self._batched(images, lambda x: F.softmax(self.net(x), dim=1))


def weights_hash(net: nn.Module) -> str:
    """SHA-256 over the parameter and buffer names, shapes and bytes, in state-dict order."""
    h = hashlib.sha256()
    for name, t in net.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_dir() -> Path:
    """``$GANKIT_CACHE`` or ``~/.cache/gankit``."""
    env = os.environ.get("GANKIT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gankit"


def _data_key(train_images: Tensor, train_labels: Tensor, n_classes: int) -> str:
    h = hashlib.sha256()
    h.update(repr(sorted(RECIPE.items())).encode())
    h.update(str((tuple(train_images.shape), n_classes)).encode())
    h.update(train_images.float().contiguous().numpy().tobytes())
    h.update(train_labels.long().contiguous().numpy().tobytes())
    return h.hexdigest()[:24]


def train_classifier(images: Tensor, labels: Tensor, n_classes: int) -> SmallCNN:
    """Train :class:`SmallCNN` deterministically (``RECIPE``: seed, epochs, Adam, one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RECIPE["seed"])
            net = SmallCNN(images.shape[1], n_classes, RECIPE["feature_dim"])
            gen = torch.Generator().manual_seed(RECIPE["seed"])
            opt = torch.optim.Adam(net.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
            x, y = images.float().cpu(), labels.long().cpu()
            bs = RECIPE["batch_size"]
            net.train()
            for _ in range(RECIPE["epochs"]):
                perm = torch.randperm(len(x), generator=gen)
                for i in range(0, len(x), bs):
                    idx = perm[i:i + bs]
                    loss = F.cross_entropy(net(x[idx]), y[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
            net.eval()
    finally:
        torch.set_num_threads(threads)
    return net


def _load_cached(path: Path, in_channels: int, n_classes: int) -> FeatureClassifier | None:
    """The cached classifier, or None where the file is unreadable or its weights do not match their hash."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        net = SmallCNN(in_channels, n_classes, RECIPE["feature_dim"])
        net.load_state_dict(blob["state"])
        fc = FeatureClassifier(net, n_classes, float(blob["test_accuracy"]), weights_hash(net), "cache")
        return fc if fc.hash == blob["hash"] else None
    except Exception:  # unreadable, truncated, wrong keys: retrain
        return None


def _save_cached(path: Path, net: SmallCNN, test_accuracy: float, digest: str) -> None:
    buf = io.BytesIO()
    torch.save({"state": net.state_dict(), "test_accuracy": test_accuracy, "hash": digest}, buf)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # the cache is an optimisation, never a requirement


def get_classifier(train: Any, test: Any, use_cache: bool = True) -> FeatureClassifier:
    """The feature classifier of a labelled image data set: from memory, the disk cache, or trained now.

    ``train`` fits it, ``test`` gives its reported accuracy; ``use_cache=False`` always trains.
    """
    if train.labels is None or train.n_classes is None:
        raise GankitError(f"image metrics need class labels to train their feature classifier; "
                          f"data set {train.name!r} has none")
    n_classes = int(train.n_classes)
    key = _data_key(train.images, train.labels, n_classes)
    if use_cache and key in _MEMO:
        return _MEMO[key]
    path = cache_dir() / f"classifier-{key}.pt"
    fc = _load_cached(path, train.images.shape[1], n_classes) if use_cache and path.is_file() else None
    if fc is None:
        net = train_classifier(train.images, train.labels, n_classes)
        fc = FeatureClassifier(net, n_classes, float("nan"), weights_hash(net), "trained")
        if test is not None and test.labels is not None and len(test):
            pred = fc.probabilities(test.images).argmax(1)
            fc.test_accuracy = float((pred == test.labels).double().mean())
        if use_cache:
            _save_cached(path, net, fc.test_accuracy, fc.hash)
    if use_cache:
        _MEMO[key] = fc
    return fc
