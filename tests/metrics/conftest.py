"""Shared fixtures of the metric tests."""

import pytest

import gankit.metrics.classifier as clf
from gankit.data.images import load_images


@pytest.fixture(scope="module")
def digits():
    return load_images("digits"), load_images("digits", split="test")


@pytest.fixture
def quick_recipe(monkeypatch, tmp_path):
    """One epoch in a private cache (the cache key includes the recipe, so these files never mix with the real ones)."""
    monkeypatch.setitem(clf.RECIPE, "epochs", 1)
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clf, "_MEMO", {})
    return tmp_path / "cache"
