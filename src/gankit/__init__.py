"""gankit: generative adversarial networks, from the divergence view to the benchmark table.

>>> from gankit import GAN                                  # doctest: +SKIP
>>> gan = GAN().fit(out="runs/first")                       # what `gankit train` trains  # doctest: +SKIP
"""

from __future__ import annotations

from .errors import GankitError

__version__ = "0.1.0"
__all__ = ["GankitError", "GAN", "VAE", "__version__"]


def __getattr__(name: str):  # the facade: `import gankit` stays light until GAN or VAE is used
    if name == "GAN":
        from .api import GAN

        return GAN
    if name == "VAE":
        from .vae_api import VAE

        return VAE
    raise AttributeError(name)
