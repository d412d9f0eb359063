"""Multinomial naive Bayes on bags of words, and ``nb_text``: train and test it on a (label, text) CSV.

``nb_text`` is what ``gankit classic nb-text FILE.csv`` runs.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import MultinomialNB

from ..errors import GankitError
from ._base import as_labels, check_fitted, rng_from

__all__ = ["MultinomialNBText", "nb_text", "read_labeled_csv"]


class MultinomialNBText:
    r"""Text classifier and bag-of-words generator: :math:`p(x, y) \propto \pi_y \prod_w \theta_{yw}^{c_w(x)}`.

    ``CountVectorizer`` turns each text into word counts :math:`c_w(x)`; ``MultinomialNB``
    fits the class priors :math:`\pi_y` and word probabilities :math:`\theta_{yw}` with
    additive (Laplace) smoothing ``alpha``.

    Parameters
    ----------
    alpha : float
        Additive smoothing of the word counts.
    stop_words : {"english"} or None
    lowercase : bool
    min_df : int
        Ignore words that appear in fewer documents.

    Attributes
    ----------
    vectorizer_, nb_ : the fitted scikit-learn objects
    classes_ : ndarray (K,)
    vocabulary_ : ndarray of str (V,)
    """

    def __init__(self, alpha: float = 1.0, stop_words: str | None = None, lowercase: bool = True,
                 min_df: int = 1) -> None:
        self.alpha, self.stop_words, self.lowercase, self.min_df = alpha, stop_words, lowercase, min_df

    def fit(self, texts: Sequence[str], labels: Any) -> MultinomialNBText:
        """Fit on ``texts`` (n strings) and ``labels`` (n). Returns self."""
        labels = as_labels(labels, len(texts), "labels")
        self.vectorizer_ = CountVectorizer(lowercase=self.lowercase, stop_words=self.stop_words, min_df=self.min_df)
        try:
            counts = self.vectorizer_.fit_transform(texts)
        except ValueError as exc:  # "empty vocabulary"
            del self.vectorizer_
            raise GankitError(f"cannot build a vocabulary from the texts: {exc}") from None
        self.nb_ = MultinomialNB(alpha=self.alpha).fit(counts, labels)
        self.classes_ = self.nb_.classes_
        self.vocabulary_ = self.vectorizer_.get_feature_names_out()
        return self

    def joint_log_likelihood(self, texts: Sequence[str]) -> np.ndarray:
        r""":math:`\log \pi_y + \sum_w c_w(x) \log \theta_{yw}`, shape (n, K).

        This is :math:`\log p(x, y)` up to the multinomial coefficient of the counts, which
        does not depend on the class (words outside the vocabulary are ignored).
        """
        check_fitted(self, "nb_", "joint_log_likelihood")
        return self.nb_.predict_joint_log_proba(self.vectorizer_.transform(texts))

    def score(self, texts: Sequence[str], labels: Any = None) -> float:
        """Mean of :meth:`joint_log_likelihood` at the true labels, or of its log-sum over classes when none are given."""
        check_fitted(self, "nb_", "score")
        jll = self.joint_log_likelihood(texts)
        if labels is None:
            return float(logsumexp(jll, axis=1).mean())
        labels = as_labels(labels, len(jll), "labels")
        index = {c: k for k, c in enumerate(self.classes_.tolist())}
        try:
            cols = np.array([index[c] for c in labels.tolist()])
        except KeyError as exc:
            raise GankitError(f"label {exc.args[0]!r} was not seen in fit; known: {self.classes_.tolist()}") from None
        return float(jll[np.arange(len(jll)), cols].mean())

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Most probable class per text, shape (n,)."""
        check_fitted(self, "nb_", "predict")
        return self.nb_.predict(self.vectorizer_.transform(texts))

    def accuracy(self, texts: Sequence[str], labels: Any) -> float:
        """Fraction of ``texts`` whose predicted class is the given label."""
        labels = as_labels(labels, len(texts), "labels")
        return float(np.mean(self.predict(texts) == labels))

    def top_words(self, k: int = 10, by: str = "ratio") -> dict[str, list[str]]:
        r"""The ``k`` top words of every class.

        ``by="ratio"`` ranks word w for class y by :math:`\log\theta_{yw} - \max_{y' \ne y}\log\theta_{y'w}`
        (how much likelier under y than under any other class); ``by="probability"`` by
        :math:`\theta_{yw}` alone (dominated by common words).
        """
        check_fitted(self, "nb_", "top_words")
        if by not in ("ratio", "probability"):
            raise GankitError(f"unknown ranking {by!r}; accepted: ratio, probability")
        logp = self.nb_.feature_log_prob_  # (K, V)
        out: dict[str, list[str]] = {}
        for i, c in enumerate(self.classes_):
            rank = logp[i]
            if by == "ratio" and len(self.classes_) > 1:
                rank = rank - np.delete(logp, i, axis=0).max(axis=0)
            order = np.argsort(-rank, kind="stable")[:k]
            out[str(c)] = self.vocabulary_[order].tolist()
        return out

    def sample(self, n: int, seed: int | np.random.Generator | None = None,
               length: int = 12) -> tuple[list[str], np.ndarray]:
        """Draw ``n`` bags of ``length`` words: y ~ π, then each word ~ θ_y. Returns (texts, labels)."""
        check_fitted(self, "nb_", "sample")
        rng = rng_from(seed)
        prior = np.exp(self.nb_.class_log_prior_)
        k = rng.choice(len(self.classes_), size=n, p=prior / prior.sum())
        theta = np.exp(self.nb_.feature_log_prob_)
        texts = [" ".join(rng.choice(self.vocabulary_, size=length, p=theta[j] / theta[j].sum())) for j in k]
        return texts, self.classes_[k]


def read_labeled_csv(path: str | os.PathLike[str], label_col: str = "label",
                     text_col: str = "text") -> tuple[list[str], list[str]]:
    """Read (texts, labels) from a CSV with a header row; GankitError names the columns present and required."""
    path = Path(path)
    required = f"required columns: {label_col}, {text_col}"
    if not path.is_file():
        raise GankitError(f"CSV file {str(path)!r} does not exist ({required})")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames
            if not header:
                raise GankitError(f"CSV file {str(path)!r} is empty; {required}")
            missing = [c for c in (label_col, text_col) if c not in header]
            if missing:
                raise GankitError(f"CSV file {str(path)!r} has columns {list(header)}; {required} "
                                  f"(missing: {', '.join(missing)})")
            texts, labels = [], []
            for row in reader:
                label, text = row.get(label_col), row.get(text_col)
                if label is None or text is None or not label.strip():
                    raise GankitError(f"CSV file {str(path)!r}, line {reader.line_num}: missing {label_col} or {text_col}")
                labels.append(label.strip())
                texts.append(text)
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise GankitError(f"cannot read CSV file {str(path)!r}: {exc}") from None
    if not texts:
        raise GankitError(f"CSV file {str(path)!r} has a header but no rows")
    return texts, labels


def nb_text(csv_path: str | os.PathLike[str], label_col: str = "label", text_col: str = "text",
            test_fraction: float = 0.25, seed: int = 0, top_k: int = 10, alpha: float = 1.0) -> dict[str, Any]:
    """Train :class:`MultinomialNBText` on part of a (label, text) CSV and test it on the rest.

    The split is scikit-learn's ``train_test_split(random_state=seed)``, stratified by
    label when every class has at least two rows.

    Returns
    -------
    dict (JSON-serialisable)
        ``file``, ``n_rows``, ``n_train``, ``n_test``, ``classes``, ``class_counts`` /
        ``train_counts`` / ``test_counts`` (rows per label), ``accuracy`` on the test rows,
        ``majority_baseline`` (accuracy of always answering the commonest training label),
        ``vocabulary_size``, ``top_words`` (label → the ``top_k`` most indicative words,
        see :meth:`MultinomialNBText.top_words`), ``test_fraction``, ``seed``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise GankitError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    texts, labels = read_labeled_csv(csv_path, label_col, text_col)
    n = len(texts)
    n_test = int(round(test_fraction * n))
    if n_test < 1 or n - n_test < 1:
        raise GankitError(f"CSV file {str(csv_path)!r} has {n} rows: too few to hold out {test_fraction:g} for testing")
    counts = Counter(labels)
    stratify = labels if min(counts.values()) >= 2 and len(counts) <= min(n_test, n - n_test) else None
    x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=n_test, random_state=seed, stratify=stratify)
    model = MultinomialNBText(alpha=alpha).fit(x_tr, np.array(y_tr))
    majority = Counter(y_tr).most_common(1)[0][0]
    return {"file": str(csv_path), "n_rows": n, "n_train": len(x_tr), "n_test": len(x_te), "classes": sorted(counts),
            "class_counts": dict(sorted(counts.items())), "train_counts": dict(sorted(Counter(y_tr).items())),
            "test_counts": dict(sorted(Counter(y_te).items())), "accuracy": model.accuracy(x_te, np.array(y_te)),
            "majority_baseline": float(np.mean(np.array(y_te) == majority)),
            "vocabulary_size": len(model.vocabulary_), "top_words": model.top_words(top_k),
            "test_fraction": test_fraction, "seed": seed}
