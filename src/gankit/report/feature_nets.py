"""Whether runs in one comparison were scored with different image feature networks.

Fréchet distance, class coverage and precision/recall are computed in a feature network's space
(:mod:`gankit.metrics.classifier`), so they compare only between runs whose ``feature_net`` is the
same: the shipped digits network everywhere, a locally trained one only on the machine that trained it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["feature_net_note"]


def feature_net_note(runs: list[Any]) -> str | None:
    """One sentence when runs on the same data carry different ``feature_net`` hashes, else None.

    ``runs`` are :class:`~gankit.report.runs.RunRecord` (``data``, ``name`` and the ``final`` metrics).
    """
    by_data: dict[str, dict[str, list[str]]] = {}
    for r in runs:
        net = r.final.get("feature_net")
        if isinstance(net, str):
            label = f"{net} ({r.final.get('feature_net_provenance', 'local')})"
            by_data.setdefault(r.data, {}).setdefault(label, []).append(r.name)
    parts = [f"{data}: " + "; ".join(f"{label} in {', '.join(names)}" for label, names in nets.items())
             for data, nets in by_data.items() if len(nets) > 1]
    if not parts:
        return None
    return ("image metrics (Fréchet distance, classes, precision/recall) were computed with different feature "
            "networks and are not comparable between them: " + " | ".join(parts))
