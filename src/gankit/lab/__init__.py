"""``gankit lab``: GAN Lab's views on a real PyTorch GAN, with the exact theory beside them.

- :class:`LabSession` -- one run's parts, trainer and callbacks (built as ``gankit train`` builds
  them), stepped by a thread; commands from the page act at the next step;
- :mod:`gankit.lab.views` -- compact frames (points, D heatmap, gradient arrows, latent mesh, losses);
- :mod:`gankit.lab.panel` -- the critic's bound against the exact divergence, mode coverage;
- :mod:`gankit.lab.server` -- the Starlette app (the ``lab`` extra) serving the page in ``static/``.
"""

from .controls import Action, parse_message
from .session import LabSession

__all__ = ["LabSession", "Action", "parse_message"]
