"""Classical generative baselines on scikit-learn, behind the same fit/sample/score front door as the GANs.

``fit(X[, y])`` returns the model, learned state ends in ``_``, and ``sample(n, seed=...)``
and ``score(X)`` (mean log-likelihood per sample, in nats) raise :class:`NotFittedError`
before ``fit``. Inputs may be numpy arrays, torch tensors or image data sets (flattened
for the model); samples come back as numpy arrays in the shape that was fitted.
"""

from ._base import NotFittedError
from .gmm import GaussianMixtureModel
from .naive_bayes import GaussianNaiveBayesGenerator
from .text import MultinomialNBText, nb_text, read_labeled_csv

__all__ = ["NotFittedError", "GaussianMixtureModel", "GaussianNaiveBayesGenerator", "MultinomialNBText",
           "nb_text", "read_labeled_csv"]
