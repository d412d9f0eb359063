"""The feature network of the image metrics: a small CNN trained on the data set's training split.

Inception weights cannot be downloaded here (REFERENCES.md), so the image metrics use a
classifier trained on the same domain. For scikit-learn's digits the trained network ships with
gankit (``metrics/weights/digits_features.pt``, its SHA-256 in :data:`SHIPPED_DIGITS_SHA256`,
checked on load): every machine uses exactly those weights, so digits metrics compare across
machines. ``gankit metrics-net train --data digits`` reproduces its recipe (:data:`RECIPE`).

Other labelled image data (a folder, IDX or CIFAR files) get a network trained on first use with
the same recipe (fixed seed, epochs, batch order, one thread). Float reductions differ between
CPUs, so such a network, its hash and the numbers it gives are *local* to the machine. It is
cached atomically as ``$GANKIT_CACHE/classifier-<key>.pt`` (default ``~/.cache/gankit``), the key
hashing the data, architecture and :data:`RECIPE`; a missing, corrupt or unwritable cache means
training in memory. Features are computed in float64 so that the same weights give the same
numbers to many more digits than float32 kernels would.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..errors import GankitError
from ..io import atomic_write_bytes

__all__ = ["FeatureClassifier", "SmallCNN", "get_classifier", "train_classifier", "weights_hash", "cache_dir",
           "RECIPE", "trained_classifier", "shipped_file", "load_shipped", "weights_blob", "data_key", "SHIPPED_DIGITS_SHA256", "SHIPPED_DIGITS_DATA_KEY"]

#: the training recipe; part of the cache key
RECIPE = {"version": 1, "seed": 0, "epochs": 12, "batch_size": 64, "lr": 2e-3, "weight_decay": 1e-4, "feature_dim": 64}

#: the shipped digits feature network: a package file, its weights' SHA-256 (:func:`weights_hash`)
SHIPPED_DIGITS_FILE = "digits_features.pt"
SHIPPED_DIGITS_SHA256 = "2a3bc6078549a780220a7c84047a54c600eb94487ae446db522977bb09c22746"
#: :func:`data_key` of the digits training split under :data:`RECIPE`: the data the shipped network is for
SHIPPED_DIGITS_DATA_KEY = "f1f213e042700009c4010a48"

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
    #: where the weights came from: "shipped" (the package file), "trained" (now), "cache" (trained earlier here)
    origin: str
    _net64: SmallCNN | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def provenance(self) -> str:
        """"shipped" (the same weights on every machine) or "local" (trained on this machine)."""
        return "shipped" if self.origin == "shipped" else "local"

    @torch.no_grad()
    def _batched(self, images: Tensor, fn: Any, batch: int = 1024) -> Tensor:
        if self._net64 is None:  # float64 copy: results that do not hang on float32 kernel order
            self._net64 = copy.deepcopy(self.net).double().eval()
        outs = [fn(self._net64, images[i:i + batch].detach().cpu().double()) for i in range(0, len(images), batch)]
        return torch.cat(outs) if outs else torch.empty(0, dtype=torch.float64)

    def features(self, images: Tensor) -> Tensor:
        """Penultimate-layer features ``(n, feature_dim)``, float64, of images ``(n, C, H, W)`` in [-1, 1]."""
        return self._batched(images, lambda net, x: net.features(x))

    def probabilities(self, images: Tensor) -> Tensor:
        """Class probabilities ``(n, n_classes)``, float64."""
        return self._batched(images, lambda net, x: F.softmax(net(x), dim=1))


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


def data_key(train_images: Tensor, train_labels: Tensor, n_classes: int) -> str:
    h = hashlib.sha256()
    h.update(repr(sorted(RECIPE.items())).encode())
    h.update(str((tuple(train_images.shape), n_classes)).encode())
    h.update(train_images.float().contiguous().numpy().tobytes())
    h.update(train_labels.long().contiguous().numpy().tobytes())
    return h.hexdigest()[:24]


def train_classifier(images: Tensor, labels: Tensor, n_classes: int, progress: bool | None = None) -> SmallCNN:
    """Train :class:`SmallCNN` deterministically (``RECIPE``: seed, epochs, Adam, one thread).

    ``progress``: a bar on stderr (None: only where stderr is a terminal).
    """
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
            bar = tqdm(total=RECIPE["epochs"] * -(-len(x) // bs), desc="feature classifier", unit="batch",
                       leave=False, file=sys.stderr, disable=None if progress is None else not progress)
            for _ in range(RECIPE["epochs"]):
                perm = torch.randperm(len(x), generator=gen)
                for i in range(0, len(x), bs):
                    idx = perm[i:i + bs]
                    loss = F.cross_entropy(net(x[idx]), y[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    bar.update()
            bar.close()
            net.eval()
    finally:
        torch.set_num_threads(threads)
    return net


def _one_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def shipped_file() -> Any:
    """The shipped digits weights as an :mod:`importlib.resources` traversable (a file in the package)."""
    return importlib.resources.files(__package__).joinpath("weights", SHIPPED_DIGITS_FILE)


def load_shipped() -> FeatureClassifier:
    """The shipped digits feature network, its weights checked against :data:`SHIPPED_DIGITS_SHA256`.

    A missing, unreadable or altered file is a :class:`GankitError` (one line): the install is broken.
    """
    ref = shipped_file()
    try:
        blob = torch.load(io.BytesIO(ref.read_bytes()), map_location="cpu", weights_only=True)
        net = SmallCNN(1, 10, RECIPE["feature_dim"])
        net.load_state_dict(blob["state"])
        accuracy = float(blob["test_accuracy"])
    except Exception as exc:  # noqa: BLE001 - missing, truncated, wrong keys: the package is damaged
        raise GankitError(f"the shipped digits feature network {ref} cannot be read ({_one_line(exc)}); "
                          f"reinstall gankit") from None
    digest = weights_hash(net.eval())
    if digest != SHIPPED_DIGITS_SHA256:
        raise GankitError(f"the shipped digits feature network {ref} has weights SHA-256 {digest[:16]}..., "
                          f"expected {SHIPPED_DIGITS_SHA256[:16]}...; reinstall gankit")
    return FeatureClassifier(net, 10, accuracy, digest, "shipped")


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


def weights_blob(fc: FeatureClassifier, key: str) -> bytes:
    """The file of a feature network (cache, shipped file, ``gankit metrics-net train -o``): tensors and plain data."""
    buf = io.BytesIO()
    torch.save({"state": fc.net.state_dict(), "test_accuracy": fc.test_accuracy, "hash": fc.hash,
                "recipe": dict(RECIPE), "data_key": key}, buf)
    return buf.getvalue()


def _save_cached(path: Path, fc: FeatureClassifier, key: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, weights_blob(fc, key))
    except OSError:
        pass  # the cache is an optimisation, never a requirement


def trained_classifier(train: Any, test: Any, progress: bool | None = None) -> FeatureClassifier:
    """A feature classifier trained now on ``train`` with :data:`RECIPE`, its accuracy measured on ``test``."""
    net = train_classifier(train.images, train.labels, int(train.n_classes), progress=progress)
    fc = FeatureClassifier(net, int(train.n_classes), float("nan"), weights_hash(net), "trained")
    if test is not None and test.labels is not None and len(test):
        pred = fc.probabilities(test.images).argmax(1)
        fc.test_accuracy = float((pred == test.labels).double().mean())
    return fc


def get_classifier(train: Any, test: Any, use_cache: bool = True, progress: bool | None = None) -> FeatureClassifier:
    """The feature classifier of a labelled image data set: shipped, from memory, the disk cache, or trained now.

    ``train`` fits it, ``test`` gives its reported accuracy. The digits training split always gets
    the shipped network (:func:`load_shipped`; nothing is trained or cached). Otherwise
    ``use_cache=False`` always trains; ``progress``: a bar while training (None: where stderr is a terminal).
    """
    if train.labels is None or train.n_classes is None:
        raise GankitError(f"image metrics need class labels to train their feature classifier; "
                          f"data set {train.name!r} has none")
    n_classes = int(train.n_classes)
    key = data_key(train.images, train.labels, n_classes)
    if key == SHIPPED_DIGITS_DATA_KEY:
        if key not in _MEMO:
            _MEMO[key] = load_shipped()
        return _MEMO[key]
    if use_cache and key in _MEMO:
        return _MEMO[key]
    path = cache_dir() / f"classifier-{key}.pt"
    fc = _load_cached(path, train.images.shape[1], n_classes) if use_cache and path.is_file() else None
    if fc is None:
        fc = trained_classifier(train, test, progress=progress)
        if use_cache:
            _save_cached(path, fc, key)
    if use_cache:
        _MEMO[key] = fc
    return fc
