"""Pictures and reports of runs: frames and animations of training, the HTML report, TensorBoard."""

from .animate import make_gif, make_mp4, save_animations
from .frames import FrameView, Snapshots
from .html import render_report, write_report
from .plots import plot_losses, plot_samples, save_run_pictures

__all__ = ["plot_losses", "plot_samples", "save_run_pictures", "FrameView", "Snapshots", "make_gif", "make_mp4",
           "save_animations", "render_report", "write_report"]
