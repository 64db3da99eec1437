"""One house style for every chart: colour-blind-safe palette (Okabe-Ito), source notes."""

from __future__ import annotations

import matplotlib as mpl

# Okabe & Ito (2008) colour-blind-safe palette
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
SOURCE_KIND_COLOURS = {
    "official_statement": PALETTE["blue"], "official_registry": PALETTE["sky"],
    "international_registry": PALETTE["green"], "ngo_report": PALETTE["vermillion"],
    "peer_reviewed": PALETTE["purple"], "news": PALETTE["orange"], "dataset": PALETTE["black"],
}
KIND_MARKERS = {"reported": "o", "estimate": "s", "capacity": "D", "lower_bound": "^",
                "upper_bound": "v", "cumulative": "P"}


def apply() -> None:
    mpl.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 200, "font.size": 9, "axes.spines.top": False,
        "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "legend.frameon": False,
    })


def source_note(fig, text: str) -> None:
    """The note every chart carries: where its numbers come from and which scenario made it."""
    fig.text(0.01, 0.005, text, fontsize=6.5, color="#555555", ha="left", va="bottom", wrap=True)
