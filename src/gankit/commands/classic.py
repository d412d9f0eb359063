"""``gankit classic``: Gaussian mixture, Gaussian naive Bayes and text naive Bayes from the command line.

Image sources are fitted on their train split and scored on their test split; other
sources on ``--n-train`` draws (seed ``--seed``) and ``--n-test`` fresh draws (seed
``--seed + 1``). Log-likelihoods are mean nats per sample on the data's scale.
"""

from __future__ import annotations

import argparse
import inspect
import time
from typing import Any

import numpy as np
import torch

from ..classic import GaussianMixtureModel, GaussianNaiveBayesGenerator, nb_text
from ..config import MAX_SAMPLES
from ..data import make_source
from ..data.toy import is_mixture_spec
from ..errors import GankitError
from ..registry import DATA
from ..rules import check_number
from .common import add_threads, print_json, save_array

#: largest --seed: scikit-learn takes random_state in [0, 2**32 - 1]
MAX_CLASSIC_SEED = 2**32 - 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classic", help="classical baselines: Gaussian mixture, naive Bayes, text naive Bayes",
                       description="Fit classical generative models and report held-out log-likelihood / accuracy.")
    csub = p.add_subparsers(dest="classic_command", metavar="MODEL", parser_class=type(p))
    t = csub.add_parser("nb-text", help="multinomial naive Bayes on a (label, text) CSV")
    t.add_argument("file", metavar="FILE.csv", help="a CSV file with a label column and a text column")
    t.add_argument("--label-col", default="label", help="label column (default label)")
    t.add_argument("--text-col", default="text", help="text column (default text)")
    t.add_argument("--test-fraction", type=float, default=0.25, help="fraction of rows held out (default 0.25)")
    t.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    t.add_argument("--top-k", type=int, default=10, help="most indicative words shown per class (default 10)")
    t.add_argument("--alpha", type=float, default=1.0, help="Laplace/Lidstone smoothing (default 1)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads(t)
    t.set_defaults(func=run_nb_text)
    for name, helptext in (("gmm", "Gaussian mixture (EM) on a data source"),
                           ("naive-bayes", "Gaussian naive Bayes p(x|y)p(y) on a labelled data source")):
        q = csub.add_parser(name, help=helptext)
        q.add_argument("--data", default="digits", help="data source (default digits; see gankit list)")
        if name == "gmm":
            q.add_argument("--n-components", type=int, default=10, help="mixture components K (default 10)")
            q.add_argument("--covariance-type", default="full", help="full, tied, diag or spherical (default full)")
        q.add_argument("--seed", type=int, default=0, help="seed of the fit and of toy-data draws (default 0)")
        q.add_argument("--n-train", type=int, default=5000, help="draws to fit on, non-image sources (default 5000)")
        q.add_argument("--n-test", type=int, default=5000, help="draws to score, non-image sources (default 5000)")
        q.add_argument("-n", "--samples", type=int, default=0, metavar="N", help="also draw N samples (needs -o)")
        q.add_argument("-o", "--output", metavar="FILE.npy", help="where to write the samples (.npy or .csv)")
        q.add_argument("--json", action="store_true", help="print one JSON object")
        add_threads(q)
        q.set_defaults(func=run_density, model=name)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def run_nb_text(args: argparse.Namespace) -> int:
    check_number("--seed", args.seed, 0, MAX_CLASSIC_SEED)
    if args.top_k < 1:
        raise GankitError(f"--top-k must be >= 1, got {args.top_k}")
    res = nb_text(args.file, label_col=args.label_col, text_col=args.text_col, test_fraction=args.test_fraction,
                  seed=args.seed, top_k=args.top_k, alpha=args.alpha)
    if args.json:
        print_json(res)
        return 0
    print(f"{res['file']}: {res['n_train']} training / {res['n_test']} test rows, {len(res['classes'])} classes, "
          f"vocabulary {res['vocabulary_size']}")
    print(f"  test accuracy {res['accuracy']:.4f} (majority baseline {res['majority_baseline']:.4f})")
    for label, words in res["top_words"].items():
        print(f"  {label}: {', '.join(words)}")
    return 0


def load_split(name: str, seed: int = 0, n_train: int = 5000, n_test: int = 5000) -> tuple[Any, Any]:
    """(train, test) of a data source: an image set's own splits, else seeded draws from the source.

    Image sets come back as ``ImageDataset`` objects (with labels), other sources as
    float tensors ``(n, *shape)``.
    """
    if not is_mixture_spec(name):
        factory = DATA.get(name)
        try:
            takes_split = "split" in inspect.signature(factory).parameters
        except (TypeError, ValueError):
            takes_split = False
        if takes_split:
            return factory(split="train"), factory(split="test")
    check_number("--n-train", n_train, 1, MAX_SAMPLES)
    check_number("--n-test", n_test, 1, MAX_SAMPLES)
    source = make_source(name)
    return (source.sample(n_train, torch.Generator().manual_seed(seed)),
            source.sample(n_test, torch.Generator().manual_seed(seed + 1)))


def fit_classic(model: str, data: str, *, n_components: int = 10, covariance_type: str = "full", seed: int = 0,
                n_train: int = 5000, n_test: int = 5000) -> tuple[Any, dict[str, Any]]:
    """Fit ``"gmm"`` or ``"naive-bayes"`` on ``data``'s train part; returns ``(model, report)``.

    The report holds ``train_log_likelihood`` and ``test_log_likelihood`` (mean nats per
    sample, :math:`\\log p(x)`), for naive Bayes also ``train_accuracy`` / ``test_accuracy``
    of :math:`\\arg\\max_y p(x, y)`, and ``n_train``, ``n_test``, ``n_features``, ``fit_time``.
    """
    train, test = load_split(data, seed, n_train, n_test)
    t0 = time.perf_counter()
    if model == "gmm":
        m: Any = GaussianMixtureModel(n_components=n_components, covariance_type=covariance_type,
                                      random_state=seed).fit(train)
    else:
        if getattr(train, "labels", None) is None or getattr(test, "labels", None) is None:
            raise GankitError(f"naive-bayes needs labelled data and {data!r} has no labels; "
                              f"accepted: image data sets with labels (digits, idx:PATH with labels, images:FOLDER of classes)")
        m = GaussianNaiveBayesGenerator().fit(train)
    fit_time = time.perf_counter() - t0
    rep: dict[str, Any] = {"model": model, "data": data, "n_train": len(train), "n_test": len(test),
                           "n_features": int(m.n_features_in_),
                           "train_log_likelihood": m.score(train), "test_log_likelihood": m.score(test)}
    if model == "gmm":
        rep.update(n_components=n_components, covariance_type=covariance_type)
    else:
        for part, ds in (("train", train), ("test", test)):
            rep[f"{part}_accuracy"] = float(np.mean(m.predict(ds) == ds.labels.numpy()))
    rep.update(seed=seed, fit_time=round(fit_time, 3))
    return m, rep


def run_density(args: argparse.Namespace) -> int:
    check_number("--samples", args.samples, 0, MAX_SAMPLES)
    check_number("--seed", args.seed, 0, MAX_CLASSIC_SEED)
    if args.samples and not args.output:
        raise GankitError("-n/--samples N needs -o FILE.npy (or .csv) to write them to")
    if args.output and not args.samples:
        raise GankitError("-o FILE needs -n/--samples N (how many samples to draw)")
    if args.output and not args.output.endswith((".npy", ".csv")):
        raise GankitError(f"output file {args.output!r} must end in .npy or .csv")
    m, rep = fit_classic(args.model, args.data, n_components=getattr(args, "n_components", 10),
                         covariance_type=getattr(args, "covariance_type", "full"), seed=args.seed,
                         n_train=args.n_train, n_test=args.n_test)
    if args.samples:
        drawn = m.sample(args.samples, seed=args.seed)
        x = drawn[0] if isinstance(drawn, tuple) else drawn  # naive Bayes returns (x, y)
        save_array(args.output, np.asarray(x, dtype=np.float32))
        rep.update(samples=args.samples, output=args.output)
    if args.json:
        print_json(rep)
        return 0
    print(f"{rep['model']} on {rep['data']}: {rep['n_train']} training / {rep['n_test']} held-out samples, "
          f"{rep['n_features']} features")
    print(f"  mean log-likelihood (nats/sample): train {rep['train_log_likelihood']:.4g}, "
          f"held-out {rep['test_log_likelihood']:.4g}")
    if "test_accuracy" in rep:
        print(f"  classification accuracy: train {rep['train_accuracy']:.4f}, held-out {rep['test_accuracy']:.4f}")
    if args.samples:
        print(f"  wrote {args.samples} samples to {args.output}")
    return 0
