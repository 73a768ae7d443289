"""The report's chart: the last two weeks of the top ingredients' consumption, as a PNG.

One small panel per ingredient, each on its own axis: kilograms and pieces do not share one.
A bare ``Figure`` renders through Agg without pyplot, so no GUI backend or global state is
involved (workers draw from several threads).
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal


def consumption_chart(
    series: dict[tuple[str, str], list[tuple[date, Decimal]]], title: str
) -> bytes | None:
    """A PNG, or ``None`` when nothing was consumed; each panel in the ingredient's own unit,
    the one it is counted in (``bot.amounts``)."""
    if not series:
        return None
    from matplotlib.figure import Figure  # matplotlib loads with the first chart drawn

    figure = Figure(figsize=(8, 1.6 * len(series) + 0.6), dpi=100)
    figure.suptitle(title)
    axes = figure.subplots(len(series), 1, sharex=True, squeeze=False)
    for ((name, unit), points), (ax,) in zip(series.items(), axes, strict=True):
        days = [day for day, _ in points]
        # Plotting needs floats; the figures themselves stay exact in the ledger.
        values = [float(quantity) for _, quantity in points]
        ax.bar(days, values, color="#4a7c59")
        ax.set_ylabel(f"{name} ({unit})", rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def variance_chart(items: list[tuple[str, Decimal]], title: str, currency: str) -> bytes | None:
    """Horizontal bars of the largest variances by money (losses right, gains left), or
    ``None`` when no line has a value."""
    if not items:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 0.45 * len(items) + 1.2), dpi=100)
    figure.suptitle(title)
    ax = figure.subplots()
    labels = [label for label, _ in reversed(items)]
    values = [float(amount) for _, amount in reversed(items)]
    ax.barh(labels, values, color=["#b5483b" if v > 0 else "#4a7c59" for v in values])
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel(f"actual − theoretical usage, {currency}", fontsize=8)
    ax.tick_params(labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
