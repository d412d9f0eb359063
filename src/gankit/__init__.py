"""gankit: generative adversarial networks, from the divergence view to the benchmark table."""

from __future__ import annotations

from .errors import GankitError

__version__ = "0.1.0"
__all__ = ["GankitError", "GAN", "VAE", "load_plugins", "__version__"]


def load_plugins() -> None:
    """Import every module that registers names, so the registries are complete."""
    from . import data, metrics, models, objectives  # noqa: F401
    from .divergences import wasserstein  # noqa: F401
    from .metrics import evaluate  # noqa: F401


def __getattr__(name: str):  # lazy: keep `import gankit` light
    if name == "GAN":
        from .api import GAN

        return GAN
    if name == "VAE":
        from .vae_api import VAE

        return VAE
    raise AttributeError(name)
