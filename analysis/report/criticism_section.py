"""The report's model-criticism section: LOO-PIT histogram, Pareto k by claim, the most influential
and worst-fitting claims (analysis.model.criticism) and leave-one-origin-out
(analysis.model.leave_out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import style
from analysis.model import criticism

if TYPE_CHECKING:  # imported where the chart is drawn (a cached report draws none)
    from matplotlib.figure import Figure

CLAIM_HEADERS = {"obs_id": "claim (row)", "source_id": "source", "origin": "origin (producer)",
                 "series": "series", "class": "evidence class", "year": "from", "year_end": "to",
                 "figure": "figure", "mode": "reading", "elpd_loo": "LOO log density",
                 "pareto_k": "Pareto k", "loo_pit": "LOO-PIT"}
LEAVE_OUT_HEADERS = {"left_out": "left out", "rows_left_out": "rows", "period": "period",
                     "unexplained_median": "not explained, median", "unexplained_q05": "5%",
                     "unexplained_q95": "95%", "shift_unexplained_median": "shift of the median",
                     "p_gap_positive": "P(signed gap > 0)", "divergences": "divergences"}


def plot_criticism(loo: pd.DataFrame, scenario: str) -> Figure:
    """Left: LOO-PIT histogram of the point figures against the uniform expectation. Right:
    Pareto k per claim (rows in LOO), the 0.7 line marking claims the fit leans on alone."""
    from matplotlib.figure import Figure

    style.apply()
    fig = Figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    pit = loo["loo_pit"].dropna().to_numpy()
    bins = 10
    ax1.hist(pit, bins=bins, range=(0, 1), color=style.VOLUME_COLOUR, alpha=0.7, edgecolor="white")
    if len(pit):
        ax1.axhline(len(pit) / bins, color="black", lw=1, ls="--", label="uniform (calibrated)")
        ax1.legend(fontsize=7)
    ax1.set_xlabel("LOO-PIT of the published figure")
    ax1.set_ylabel("point figures")
    ax1.set_title(f"LOO-PIT ({len(pit)} point figures)")
    k = loo["pareto_k"].to_numpy()
    ax2.scatter(np.arange(len(k)), k, s=10, color=style.GAP_COLOUR)
    ax2.axhline(criticism.PARETO_K_BAD, color="black", lw=1, ls="--", label="k = 0.7")
    ax2.set_xlabel("claim (likelihood row, points and ranges)")
    ax2.set_ylabel("Pareto k")
    ax2.set_title(f"Influence: {int((k > criticism.PARETO_K_BAD).sum())} of {len(k)} claims above 0.7")
    ax2.legend(fontsize=7)
    style.finish(fig, scenario, "PSIS-LOO of each claim (ArviZ psislw on the fit's log-likelihood draws); "
                 "one-sided claims (bounds, 'over X') are not in LOO: a satisfied bound measures nothing about the figure.",
                 bottom=0.16)
    return fig


def html(loo: pd.DataFrame | None, leave_out: pd.DataFrame | None, figure_html: str) -> str:
    """The section (``table`` / ``esc`` from analysis.report.html, imported late: html imports us)."""
    from analysis.report.html import esc, table

    if loo is None or not len(loo):
        return ""
    s = criticism.summary(loo)
    cols = [c for c in CLAIM_HEADERS if c in loo.columns]
    parts = [
        '<section id="criticism"><h2>Model criticism: which claims the fit leans on and fits worst</h2>',
        f"<p>PSIS leave-one-out over the {s['rows_in_loo']} claims that state a figure or a range "
        f"(one-sided claims excluded: bounds and 'over X' figures; a satisfied bound has a log-likelihood near 0 whatever the fit). "
        f"Pareto k above 0.7: {s['pareto_k_above_0.7']} claims (largest {esc(s['pareto_k_max'])}); "
        f"LOO-PIT outside 5-95%: {s['pit_outside_5_95']} of {s['pit_rows']} point figures "
        f"(about {0.1 * s['pit_rows']:.0f} expected if the predictions were calibrated).</p>",
        figure_html,
        "<h3>The 10 most influential claims (largest Pareto k)</h3>",
        table(criticism.influential(loo)[cols], headers=CLAIM_HEADERS, table_id="influential-table"),
        "<h3>The 10 worst-fitting claims (lowest leave-one-out log density)</h3>",
        table(criticism.worst_fitting(loo)[cols], headers=CLAIM_HEADERS, table_id="worst-table"),
    ]
    if leave_out is not None and len(leave_out):
        parts += ["<h3>Leave one origin out</h3>",
                  "<p>Each row refits the model without every figure of one producer (relays included), "
                  "or of one evidence group, and shows the organs not explained by declared sources per "
                  "period (quick draws, one compiled model). <code>(none)</code> is the refit with every "
                  "row at the same settings.</p>",
                  table(leave_out[[c for c in LEAVE_OUT_HEADERS if c in leave_out.columns]],
                        headers=LEAVE_OUT_HEADERS, table_id="leave-out-table")]
    parts.append("</section>")
    return "".join(parts)
