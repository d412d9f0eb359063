"""``gankit metrics-net train --data digits -o FILE``: train the image metrics' feature network with its recipe.

For digits this reproduces the recipe of the network shipped with gankit and prints both side by
side (hash, test accuracy, Fréchet floor): the numbers agree closely, the bits only on the same
kind of CPU (docs/images.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.images import load_images
from ..errors import GankitError
from ..io import atomic_write_bytes
from ..metrics.classifier import (
    RECIPE,
    SHIPPED_DIGITS_DATA_KEY,
    data_key,
    load_shipped,
    trained_classifier,
    weights_blob,
)
from ..metrics.feature_net import describe
from .common import add_progress, add_threads, print_json, progress_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metrics-net", help="the image metrics' feature network: train it with its recipe",
                       description="The feature network of the image metrics (docs/images.md).")
    inner = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    t = inner.add_parser("train", help="train the feature network with the shipped recipe and write it",
                         description="Train the feature network with the recipe of the shipped digits network "
                                     f"(seed {RECIPE['seed']}, {RECIPE['epochs']} epochs, Adam {RECIPE['lr']:g}, "
                                     f"batch {RECIPE['batch_size']}, one thread); print its hash, test accuracy "
                                     "and Fréchet floor, beside the shipped network's for digits.")
    t.add_argument("--data", default="digits", help="a labelled image data set: digits, an IDX/CIFAR/.npz file or "
                                                    "folder (default: %(default)s)")
    t.add_argument("-o", "--output", required=True, metavar="FILE.pt", help="where to write the weights (.pt)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    add_progress(t)
    add_threads(t)
    t.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix != ".pt":
        raise GankitError(f"output file {str(out)!r} must end in .pt")
    if not out.parent.is_dir():
        raise GankitError(f"folder {str(out.parent)!r} of the output file does not exist")
    train, test = load_images(args.data, split="train"), load_images(args.data, split="test")
    if train.labels is None or train.n_classes is None:
        raise GankitError(f"data set {args.data!r} has no class labels; the feature network is a classifier")
    fc = trained_classifier(train, test, progress=progress_arg(args))
    key = data_key(train.images, train.labels, int(train.n_classes))
    try:
        atomic_write_bytes(out, weights_blob(fc, key))
    except OSError as exc:
        raise GankitError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    result = {"data": args.data, "output": str(out), "trained": describe(fc, train, test)}
    if key == SHIPPED_DIGITS_DATA_KEY:
        result["shipped"] = s = describe(load_shipped(), train, test)
        result["floor_rel_diff"] = abs(result["trained"]["frechet_floor"] / s["frechet_floor"] - 1)
    if args.json:
        print_json(result)
        return 0
    for name in ("trained", "shipped"):
        if name in result:
            d = result[name]
            print(f"{name:<8} feature net {d['feature_net']}  test accuracy {d['test_accuracy']:.4f}  "
                  f"FD floor {d['frechet_floor']:.4f} ({d['n_train']} training vs {d['n_test']} test images)")
    if "shipped" in result:
        print(f"FD floors differ by {100 * result['floor_rel_diff']:.2f} %")
    print(f"weights written to {out}")
    return 0
