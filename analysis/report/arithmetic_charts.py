"""Charts of the check-the-arithmetic tables (analysis/model/arithmetic.py): executions required
to supply the volume against the estimated executions, and the capacity gap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis import style

if TYPE_CHECKING:  # imported where a chart is drawn (a cached report draws none)
    from matplotlib.figure import Figure

NOTE = ("Source: tgap fit of the cited figures in data/raw (posterior draws); published points: "
        "execution estimates and recorded minimums that entered the model (Dui Hua, Amnesty and others).")


def _thousands(ax) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_executions_required(table: pd.DataFrame, scenario: str) -> Figure:
    """Executions needed to supply the volume not covered by voluntary and living donors, at the
    ceiling c_max and at the posterior yield c_t (median, 90% interval), beside the estimated
    executions; published estimates as points (range as a bar), recorded minimums as triangles.
    Years in which prisoners are a declared source only."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    style.apply()
    t = table[table["prisoners_declared"].astype(str).str.lower().isin(["true", "yes", "1"])]
    fig = Figure(figsize=(10, 5.4))
    ax = fig.subplots()
    ax.fill_between(t["year"], t["executions_q05"], t["executions_q95"], color=style.VOLUME_COLOUR,
                    alpha=0.25, lw=0, label="estimated executions, 90% interval")
    ax.plot(t["year"], t["executions_median"], color=style.VOLUME_COLOUR, lw=1.8, label="estimated executions, median")
    for key, colour, label in (("required_at_yield", style.GAP_COLOUR, "required at the posterior organ yield"),
                               ("required_at_ceiling", style.PALETTE["green"], "required at the ceiling (most generous)")):
        ax.fill_between(t["year"], t[f"{key}_q05"], t[f"{key}_q95"], color=colour, alpha=0.18, lw=0)
        ax.plot(t["year"], t[f"{key}_median"], color=colour, lw=1.6, ls="--", label=f"{label}, median and 90%")
    pub = t.dropna(subset=["published_min"])
    ax.vlines(pub["year"], pub["published_min"], pub["published_max"], color="black", lw=1.2)
    ax.scatter(pub["year"], pub["published_max"], color="black", s=14, zorder=3, label="published estimates (range)")
    ax.scatter(pub["year"], pub["published_min"], color="black", s=14, zorder=3)
    mins = t.dropna(subset=["recorded_minimum"])
    ax.scatter(mins["year"], mins["recorded_minimum"], marker="^", facecolor="white", edgecolor="black", s=22,
               zorder=3, label="recorded minimum")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("executions per year (log scale)")
    ax.set_xlabel("year")
    ax.set_title(f"Executions required to supply the transplant volume vs estimated, scenario {scenario}")
    ax.legend(fontsize=7, loc="lower left")
    style.finish(fig, scenario, NOTE + " Required = (volume − voluntary-donor organs − living-donor "
                 "transplants) / organs per executed person.", bottom=0.12)
    return fig


def plot_capacity_gap(table: pd.DataFrame, scenario: str) -> Figure:
    """Organs the declared sources could not have supplied even at their maximum, by year."""
    from matplotlib.figure import Figure

    style.apply()
    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    ax.fill_between(table["year"], table["capacity_gap_q05"], table["capacity_gap_q95"],
                    color=style.GAP_BAND_COLOUR, alpha=0.3, lw=0, label="90% interval")
    ax.fill_between(table["year"], table["capacity_gap_q25"], table["capacity_gap_q75"],
                    color=style.GAP_BAND_COLOUR, alpha=0.65, lw=0, label="50% interval")
    ax.plot(table["year"], table["capacity_gap_median"], color=style.GAP_COLOUR, lw=1.8, label="median")
    _thousands(ax)
    ax.set_ylabel("organs per year")
    ax.set_xlabel("year")
    ax.set_title(f"Organs not explained even at the declared sources' maximum, scenario {scenario}")
    ax.legend(fontsize=7, loc="upper left")
    style.finish(fig, scenario, "Source: tgap fit (posterior draws). Maximum = executions × ceiling "
                 "(while declared) + voluntary donors × organs per donor + living-donor transplants.",
                 bottom=0.13)
    return fig
