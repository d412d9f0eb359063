"""Image loaders on tiny files written here, in every accepted format, and their failure modes."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.data.images import ImageDataset, load_array, load_cifar, load_folder, load_idx, load_images
from gankit.errors import GankitError
from gankit.registry import DATA

RNG = np.random.default_rng(0)


def write_idx(path: Path, arr: np.ndarray, code: int = 0x08, gz: bool = False) -> Path:
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    blob = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


def mnist_like(n: int = 10, h: int = 4, w: int = 3) -> tuple[np.ndarray, np.ndarray]:
    x = RNG.integers(0, 256, size=(n, h, w), dtype=np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255
    return x, RNG.integers(0, 10, size=n).astype(np.uint8)


def expected(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x.astype(np.float64) / 127.5 - 1).float()


# --------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_and_sibling_labels(tmp_path: Path, gz: bool) -> None:
    x, y = mnist_like()
    suffix = ".gz" if gz else ""
    img = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x, gz=gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y, gz=gz)
    ds = load_images(img, split="all")
    assert isinstance(ds, ImageDataset) and ds.shape == (1, 4, 3) and len(ds) == 10
    assert ds.images.dtype == torch.float32
    assert torch.allclose(ds.images[:, 0], expected(x), atol=1e-6)
    assert ds.images[0, 0, 0, 0] == -1 and ds.images[0, 0, 0, 1] == 1
    assert ds.labels is not None and ds.labels.tolist() == y.tolist()
    assert ds.n_classes == int(y.max()) + 1


def test_idx_float_type_and_explicit_labels(tmp_path: Path) -> None:
    x = RNG.random((6, 2, 2)).astype(np.float32)
    img = write_idx(tmp_path / "imgs.idx", x, code=0x0D)
    lab = write_idx(tmp_path / "labs.idx", np.arange(6), code=0x0B)
    ds = load_idx(img, split="all", labels=lab)
    assert torch.allclose(ds.images[:, 0], torch.from_numpy(2 * x - 1), atol=1e-6)
    assert ds.labels.tolist() == list(range(6))


def test_idx_split_is_fixed_and_disjoint(tmp_path: Path) -> None:
    x, y = mnist_like(n=20)
    img = write_idx(tmp_path / "x-images-idx3-ubyte", x)
    tr, te = load_images(img, split="train"), load_images(img, split="test")
    assert (len(tr), len(te)) == (16, 4)
    rows = {tuple(r.flatten().tolist()) for r in torch.cat([tr.images, te.images])}
    assert len(rows) == 20  # disjoint and covering (random rows are distinct)


def test_mnist_folder_uses_official_split(tmp_path: Path) -> None:
    (xa, ya), (xb, yb) = mnist_like(n=7), mnist_like(n=3)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", xa, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", ya, gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", xb, gz=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", yb, gz=True)
    assert len(load_images(tmp_path, split="train")) == 7
    te = load_images(tmp_path, split="test")
    assert te.labels.tolist() == yb.tolist()
    assert len(load_images(tmp_path, split="all")) == 10


def _good_idx(tmp_path: Path) -> bytes:
    x, _ = mnist_like()
    return write_idx(tmp_path / "good", x).read_bytes()


@pytest.mark.parametrize("case, fragment", [
    ("truncated data", "truncated"),
    ("truncated header", "truncated"),
    ("tiny", "truncated"),
    ("wrong magic", "wrong magic"),
    ("unknown type", "unknown type code"),
    ("trailing", "trailing bytes"),
    ("broken gzip", "cannot read IDX"),
])
def test_corrupt_idx_raises_naming_file_and_problem(tmp_path: Path, case: str, fragment: str) -> None:
    good = _good_idx(tmp_path)
    blob = {
        "truncated data": good[:-5],
        "truncated header": good[:9],
        "tiny": good[:3],
        "wrong magic": b"\x01\x02" + good[2:],
        "unknown type": good[:2] + b"\x07" + good[3:],
        "trailing": good + b"\0",
        "broken gzip": gzip.compress(good)[:-12],
    }[case]
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes(blob)
    with pytest.raises(GankitError, match=fragment) as err:
        load_idx(bad, split="all")
    assert str(bad) in str(err.value)


def test_idx_label_count_mismatch(tmp_path: Path) -> None:
    x, y = mnist_like()
    img = write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y[:-1])
    with pytest.raises(GankitError, match="9 labels for 10 images"):
        load_idx(img)


# --------------------------------------------------------------------------- CIFAR

def cifar_batch(n: int, seed: int) -> dict[bytes, object]:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"test", b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3 * 4 * 4), dtype=np.uint8), b"filenames": [b"a.png"] * n}


@pytest.mark.parametrize("protocol", [2, pickle.DEFAULT_PROTOCOL])
def test_cifar_batch_file(tmp_path: Path, protocol: int) -> None:
    batch = cifar_batch(5, seed=1)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(batch, protocol=protocol))
    ds = load_images(path, split="all")
    assert ds.shape == (3, 4, 4) and ds.labels.tolist() == batch[b"labels"]
    want = expected(batch[b"data"].reshape(5, 3, 4, 4))
    assert torch.allclose(ds.images, want, atol=1e-6)


def test_cifar_batch_written_by_old_numpy(tmp_path: Path) -> None:
    """The real CIFAR files name ``numpy.core.multiarray._reconstruct`` (numpy < 2)."""
    batch = cifar_batch(3, seed=4)
    blob = pickle.dumps(batch, protocol=2)
    assert b"numpy._core.multiarray" in blob
    path = tmp_path / "data_batch_1"
    path.write_bytes(blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    ds = load_images(path, split="all")
    assert torch.allclose(ds.images, expected(batch[b"data"].reshape(3, 3, 4, 4)), atol=1e-6)


def test_cifar_folder_official_split_and_class_names(tmp_path: Path) -> None:
    for i in (1, 2):
        (tmp_path / f"data_batch_{i}").write_bytes(pickle.dumps(cifar_batch(4, seed=i), protocol=2))
    (tmp_path / "test_batch").write_bytes(pickle.dumps(cifar_batch(3, seed=9), protocol=2))
    names = [f"c{k}".encode() for k in range(10)]
    (tmp_path / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    tr, te = load_cifar(tmp_path, "train"), load_images(tmp_path, split="test")
    assert (len(tr), len(te), len(load_cifar(tmp_path, "all"))) == (8, 3, 11)
    assert tr.class_names == [n.decode() for n in names] and tr.n_classes == 10


class _System:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what an attacker would write
        return (os.system, (f"touch '{self.marker}'",))


class _Open:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("payload", [_System, _Open])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path: Path, payload: type) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "data_batch_1"
    evil.write_bytes(pickle.dumps({b"data": payload(marker), b"labels": [0]}, protocol=2))
    with pytest.raises(GankitError, match="refusing") as err:
        load_images(evil)
    assert str(evil) in str(err.value)
    assert not marker.exists()
    # control: the file really is an exploit for a plain pickle.load
    pickle.loads(evil.read_bytes())
    assert marker.exists()


def test_cifar_batch_without_data_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({b"labels": [1, 2]}))
    with pytest.raises(GankitError, match="keys present"):
        load_images(path)


# --------------------------------------------------------------------------- npy / npz

@pytest.mark.parametrize("layout", ["NHW", "NHWC", "NCHW"])
def test_npy_layouts(tmp_path: Path, layout: str) -> None:
    x = RNG.integers(0, 256, (10, 3, 5, 6), dtype=np.uint8)  # NCHW reference
    stored = {"NHW": x[:, 0], "NHWC": x.transpose(0, 2, 3, 1), "NCHW": x}[layout]
    np.save(tmp_path / "x.npy", stored)
    ds = load_images(tmp_path / "x.npy", split="all")
    want = x[:, :1] if layout == "NHW" else x
    assert torch.allclose(ds.images, expected(want), atol=1e-6)


def test_float_arrays_in_unit_and_signed_ranges(tmp_path: Path) -> None:
    x = RNG.random((8, 4, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", 2 * x - 1)
    for name in ("a.npy", "b.npy"):
        ds = load_array(tmp_path / name, split="all")
        assert torch.allclose(ds.images[:, 0], torch.from_numpy(2 * x - 1), atol=1e-6)
    np.save(tmp_path / "c.npy", 10 * x)
    with pytest.raises(GankitError, match="value_range"):
        load_array(tmp_path / "c.npy")
    ds = load_array(tmp_path / "c.npy", split="all", value_range=(0, 10))
    assert torch.allclose(ds.images[:, 0], torch.from_numpy(2 * x - 1), atol=1e-5)


def test_npz_with_labels_and_keras_split(tmp_path: Path) -> None:
    x, y = mnist_like(n=10)
    np.savez(tmp_path / "d.npz", images=x, labels=y)
    ds = load_images(tmp_path / "d.npz", split="all")
    assert ds.labels.tolist() == y.tolist()
    np.savez_compressed(tmp_path / "k.npz", x_train=x[:6], y_train=y[:6], x_test=x[6:], y_test=y[6:])
    te = load_images(tmp_path / "k.npz", split="test")
    assert len(te) == 4 and te.labels.tolist() == y[6:].tolist()
    assert len(load_images(tmp_path / "k.npz", split="all")) == 10


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused(tmp_path: Path, bad: float) -> None:
    x = RNG.random((5, 3, 3))
    x[2, 1, 1] = bad
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(GankitError, match="NaN or infinite"):
        load_images(tmp_path / "x.npy")


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(GankitError, match="without pickle"):
        load_images(tmp_path / "o.npy")


def test_bad_array_shape(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros(7, dtype=np.uint8))
    with pytest.raises(GankitError, match=r"accepted: \(N,H,W\)"):
        load_images(tmp_path / "v.npy")


# --------------------------------------------------------------------------- PNG / JPEG folders

def write_pics(folder: Path, n: int, mode: str, size: tuple[int, int] = (5, 4), suffix: str = ".png") -> np.ndarray:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    c = 1 if mode == "L" else 3
    arr = RNG.integers(0, 256, (n, size[1], size[0], c), dtype=np.uint8)
    for i in range(n):
        Image.fromarray(arr[i, ..., 0] if c == 1 else arr[i], mode).save(folder / f"im{i:02d}{suffix}")
    return arr.transpose(0, 3, 1, 2)  # (n, C, H, W)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_png_folder(tmp_path: Path, mode: str) -> None:
    want = write_pics(tmp_path / "pics", 6, mode)
    ds = load_images(tmp_path / "pics", split="all")
    assert ds.shape == (1 if mode == "L" else 3, 4, 5) and ds.labels is None
    assert torch.allclose(ds.images, expected(want), atol=1e-6)


def test_jpeg_folder_and_class_subfolders(tmp_path: Path) -> None:
    write_pics(tmp_path / "f" / "cat", 3, "RGB", suffix=".jpg")
    write_pics(tmp_path / "f" / "dog", 2, "RGB", suffix=".jpeg")
    ds = load_folder(tmp_path / "f", split="all")
    assert ds.shape == (3, 4, 5) and ds.labels.tolist() == [0, 0, 0, 1, 1]
    assert ds.class_names == ["cat", "dog"] and ds.n_classes == 2


def test_mixed_sizes_need_size(tmp_path: Path) -> None:
    write_pics(tmp_path / "m", 2, "L", size=(5, 4))
    from PIL import Image

    Image.new("RGB", (7, 3)).save(tmp_path / "m" / "z.png")
    with pytest.raises(GankitError, match="different sizes.*size="):
        load_images(tmp_path / "m")
    ds = load_images(tmp_path / "m", split="all", size=6)
    assert ds.shape == (3, 6, 6) and len(ds) == 3  # one colour image makes them all RGB


def test_empty_folder_and_unreadable_image(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    with pytest.raises(GankitError, match="holds no images"):
        load_images(tmp_path / "e")
    (tmp_path / "e" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(GankitError, match="broken.png"):
        load_images(tmp_path / "e")


# --------------------------------------------------------------------------- front door, digits, sampling

def test_load_images_errors_list_what_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    for target in (tmp_path / "notes.txt", tmp_path / "missing.npy"):
        with pytest.raises(GankitError, match="accepted: a named data set"):
            load_images(target)
    with pytest.raises(GankitError, match="accepted: train, test, all"):
        load_images("digits", split="validation")
    with pytest.raises(GankitError, match="does not take colour; it takes: test_fraction, split_seed"):
        load_images("digits", colour=True)


def test_digits_split_fixed_disjoint_and_scaled() -> None:
    from sklearn.datasets import load_digits

    tr, te, al = (load_images("digits", split=s) for s in ("train", "test", "all"))
    assert (len(tr), len(te), len(al)) == (1438, 359, 1797)
    assert tr.shape == (1, 8, 8) and tr.n_classes == te.n_classes == 10
    assert torch.equal(tr.images, load_images("digits").images)  # deterministic
    raw = load_digits().data
    assert torch.allclose(al.images.reshape(1797, 64), torch.from_numpy(raw / 8 - 1).float())
    # disjoint and covering: match rows of both splits back to indices of the full set
    key = {tuple(r): i for i, r in enumerate(np.c_[raw, load_digits().target].tolist())}
    def idx(ds: ImageDataset) -> set[int]:
        flat = np.rint((ds.images.reshape(len(ds), 64).double().numpy() + 1) * 8)
        return {key[tuple(r)] for r in np.c_[flat, ds.labels.numpy()].tolist() if tuple(r) in key}
    a, b = idx(tr), idx(te)
    assert not a & b and len(a | b) >= 1790  # digits holds a few exact duplicate rows


def test_sample_draws_rows_with_the_generator() -> None:
    ds = load_images("digits", split="test")
    a = ds.sample(50, torch.Generator().manual_seed(3))
    b = ds.sample(50, torch.Generator().manual_seed(3))
    assert a.shape == (50, 1, 8, 8) and torch.equal(a, b)
    rows = {tuple(r.flatten().tolist()) for r in ds.images}
    assert all(tuple(r.flatten().tolist()) in rows for r in a)
    x, y = ds.sample_labeled(7, torch.Generator().manual_seed(0))
    assert x.shape == (7, 1, 8, 8) and y.shape == (7,) and y.dtype == torch.int64


def test_registered_in_data_registry(tmp_path: Path) -> None:
    x, _ = mnist_like()
    img = write_idx(tmp_path / "imgs-idx3-ubyte", x)
    assert len(DATA.get("digits")(split="test")) == 359
    assert len(DATA.get(f"idx:{img}")(split="all")) == 10
    assert len(DATA.get(f"images:{img}")(split="test")) == 2
