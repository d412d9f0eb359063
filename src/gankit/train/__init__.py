"""Training: the loop of Algorithm 1, its callbacks, and checkpoints."""

from .checkpoint import list_checkpoints, load_checkpoint, load_latest, save_checkpoint
from .trainer import Callback, Trainer, TrainingInterrupted, seed_everything

__all__ = ["Callback", "Trainer", "TrainingInterrupted", "seed_everything", "list_checkpoints", "load_checkpoint",
           "load_latest", "save_checkpoint"]
