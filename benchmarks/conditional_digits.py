"""Conditional digits: does ``gankit sample RUN --class K`` draw the digit K?

Trains ``gankit train --data digits --conditional [KIND]`` (or takes a trained ``--run``), draws
``--n`` samples of each class with ``gankit sample RUN -n N --class K``, and labels them with an
independent classifier: scikit-learn's ``LogisticRegression`` fitted on the training split of
scikit-learn's digits (the split gankit trains on; pixels 0..16), not gankit's feature network.
Its accuracy on the test split is printed beside the result. The acceptance check of a
conditional digits model is a mean per-class accuracy of at least 0.85 (the script exits 1 below it).

Usage::

    PYTHONPATH=src python benchmarks/conditional_digits.py                      # train, then score
    PYTHONPATH=src python benchmarks/conditional_digits.py --kind acgan --json
    PYTHONPATH=src python benchmarks/conditional_digits.py --run runs/digits-cond --n 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from gankit.data.image_dataset import split_indices

CLASSES = 10


def gankit(*args: str) -> subprocess.CompletedProcess:
    """Run the ``gankit`` command line (this interpreter, one thread) and fail loudly if it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "gankit", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"gankit {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done


def independent_classifier() -> tuple[LogisticRegression, float]:
    """Logistic regression on scikit-learn's digits (gankit's training split); its test-split accuracy."""
    x, y = load_digits(return_X_y=True)
    train, test = split_indices(len(x), "train"), split_indices(len(x), "test")
    clf = LogisticRegression(max_iter=5000).fit(x[train] / 16.0, y[train])
    return clf, float(clf.score(x[test] / 16.0, y[test]))


def per_class_accuracy(run: Path, n: int, seed: int, clf: LogisticRegression, work: Path) -> list[float]:
    """Share of ``gankit sample RUN -n n --class k`` samples the classifier labels ``k``, for each class."""
    acc = []
    for k in range(CLASSES):
        out = work / f"class{k}.npy"
        gankit("sample", str(run), "-n", str(n), "--class", str(k), "--seed", str(seed), "-o", str(out))
        images = np.load(out).reshape(n, -1)  # in [-1, 1]
        pred = clf.predict((images + 1.0) / 2.0)  # the classifier's pixel scale, [0, 1] as 0..16 / 16
        acc.append(float((pred == k).mean()))
    return acc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="a trained conditional digits run (default: train one)")
    p.add_argument("--kind", default="projection", choices=("projection", "acgan"))
    p.add_argument("--steps", type=int, help="training steps (default: the images preset's)")
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--n", type=int, default=200, help="samples per class")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    clf, clf_acc = independent_classifier()
    with tempfile.TemporaryDirectory() as tmp:
        work, t0 = Path(tmp), time.perf_counter()
        run = Path(args.run) if args.run else work / "run"
        if not args.run:
            extra = ["--steps", str(args.steps)] if args.steps else []
            gankit("train", "--data", "digits", "--conditional", args.kind, "--seed", str(args.seed), "--out", str(run),
                   "--no-progress", *extra)
        train_s = time.perf_counter() - t0
        acc = per_class_accuracy(run, args.n, 0, clf, work)
        metrics = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").exists() else {}
    result = {"kind": args.kind, "seed": args.seed, "steps": metrics.get("step"), "n_per_class": args.n,
              "mean_accuracy": float(np.mean(acc)), "per_class_accuracy": acc,
              "classifier": "sklearn LogisticRegression on the digits training split",
              "classifier_test_accuracy": clf_acc, "train_s": round(train_s, 1),
              **{k: metrics[k] for k in ("class_coverage", "intra_fd", "frechet_distance", "frechet_floor")
                 if k in metrics}}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"conditional digits ({args.kind}, seed {args.seed}, {result['steps']} steps): mean accuracy "
              f"{result['mean_accuracy']:.3f} over {CLASSES} classes ({args.n} samples each); "
              f"classifier test accuracy {clf_acc:.3f}")
        for k, a in enumerate(acc):
            print(f"  class {k}: {a:.3f}")
    return 0 if result["mean_accuracy"] >= 0.85 else 1


if __name__ == "__main__":
    raise SystemExit(main())
