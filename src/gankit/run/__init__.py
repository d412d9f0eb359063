"""The run: resolve a config, build the parts, train with callbacks, write and load a run directory.

Everything that trains goes through here: ``gankit train/sample/eval``, :class:`gankit.GAN`,
:class:`gankit.VAE` and ``gankit train --seeds``.

- :func:`resolve` -- presets, your TOML, flags and ``--set`` → a :class:`~gankit.config.RunConfig`;
- :func:`build` -- a config → its :class:`Parts` (data, G, D, objective, device);
- :class:`Run` -- ``fit``, ``load``, ``sample``, ``evaluate``;
- :func:`gankit.run.seeds.train_seeds` -- N seeds of one run, vectorised in one process.
"""

from .parts import Parts, build, default_out, resolve_device
from .presets import Resolved, auto_preset, data_name_for, is_image_data, preset_help, preset_names, resolve
from .run import Run

__all__ = ["Run", "Parts", "build", "default_out", "resolve_device", "Resolved", "resolve", "preset_names",
           "preset_help", "auto_preset", "data_name_for", "is_image_data"]
