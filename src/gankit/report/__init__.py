"""Pictures and reports of runs."""

from .plots import plot_losses, plot_samples, save_run_pictures

__all__ = ["plot_losses", "plot_samples", "save_run_pictures"]
