"""The report's chart: the last two weeks of the top ingredients' consumption, as a PNG.

One small panel per ingredient, each on its own axis: kilograms and pieces do not share one.
A bare ``Figure`` renders through Agg without pyplot, so no GUI backend or global state is
involved (workers draw from several threads).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from matplotlib.figure import Figure


def consumption_chart(series: dict[str, list[tuple[date, Decimal]]], title: str) -> bytes | None:
    """A PNG, or ``None`` when nothing was consumed."""
    if not series:
        return None
    figure = Figure(figsize=(8, 1.6 * len(series) + 0.6), dpi=100)
    figure.suptitle(title)
    axes = figure.subplots(len(series), 1, sharex=True, squeeze=False)
    for (label, points), (ax,) in zip(series.items(), axes, strict=True):
        days = [day for day, _ in points]
        # Plotting needs floats; the figures themselves stay exact in the ledger.
        values = [float(quantity) for _, quantity in points]
        ax.bar(days, values, color="#4a7c59")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
