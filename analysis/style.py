"""One house style for every chart: colour-blind-safe palette (Okabe-Ito), source notes, saving.

Every chart of the report and the notebooks goes through this module: ``apply()`` sets the
matplotlib defaults, ``finish()`` adds the source note naming the scenario, ``save()`` writes the
figure as PNG (``PNG_DPI``) and SVG, each atomically.
"""

from __future__ import annotations

from pathlib import Path

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

# The declared sources, the volume and the unexplained part: the same colours in every chart.
DECLARED_COLOURS = {
    "prisoners": PALETTE["purple"],   # executed prisoners, while a declared source
    "donors": PALETTE["green"],       # voluntary deceased donors
    "living": PALETTE["yellow"],      # living donors
}
DECLARED_LABELS = {
    "prisoners": "executed prisoners (declared)",
    "donors": "voluntary deceased donors",
    "living": "living donors",
}
VOLUME_COLOUR = PALETTE["blue"]
GAP_COLOUR = PALETTE["vermillion"]
GAP_BAND_COLOUR = PALETTE["orange"]
PROBABILITY_COLOUR = PALETTE["sky"]

CYCLE = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")]
"""Default colour order (chains in trace and rank plots, lines without an explicit colour)."""
PNG_DPI = 200
NOTE_COLOUR = "#555555"


def apply() -> None:
    mpl.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": PNG_DPI, "font.size": 9, "axes.spines.top": False,
        "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "legend.frameon": False,
        "svg.fonttype": "none", "svg.hashsalt": "tgap",
        "axes.prop_cycle": mpl.cycler(color=CYCLE),
    })


def thousands(ax, axis: str = "y") -> None:
    """Tick labels with thousands separators and a true minus sign ("−12,000"), at most 6 ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fmt = FuncFormatter(lambda v, _pos: f"{v:,.0f}".replace("-", "\u2212"))
    for a in ([ax.xaxis] if axis in ("x", "both") else []) + ([ax.yaxis] if axis in ("y", "both") else []):
        if a.get_scale() == "linear":
            a.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        a.set_major_formatter(fmt)


def year_axis(ax) -> None:
    """Whole years on the x axis (no "2002.5")."""
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))


def mark(fig, label: str) -> None:
    """A quick or failed-gate run: a translucent diagonal watermark and a line at the top of the
    figure naming it (nothing when ``label`` is empty)."""
    if not label:
        return
    fig.text(0.5, 0.5, label, fontsize=34, color=PALETTE["vermillion"], alpha=0.13, ha="center", va="center",
             rotation=20, fontweight="bold", zorder=100)
    fig.text(0.995, 0.995, label, fontsize=8, color=PALETTE["vermillion"], ha="right", va="top",
             fontweight="bold")


def source_note(fig, text: str) -> None:
    """The note every chart carries: where its numbers come from and which scenario made it."""
    fig.text(0.01, 0.005, text, fontsize=6.5, color=NOTE_COLOUR, ha="left", va="bottom", wrap=True)


def finish(fig, scenario: str | None, source: str, bottom: float = 0.09) -> None:
    """Leave room at the bottom and add the source note (``source``; scenario name appended)."""
    note = f"Scenario: {scenario}. {source}" if scenario else source
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, bottom))
    source_note(fig, note)


def save(fig, stem: Path) -> list[Path]:
    """Write ``stem``.png (``PNG_DPI``) and ``stem``.svg atomically; return both paths.

    Each file is written to a temp name beside its target and renamed into place; on any error
    neither target is touched.
    """
    from analysis.io import commit_files, temp_path_beside

    stem = Path(stem)
    targets = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    staged = []
    try:
        for target in targets:
            tmp = temp_path_beside(target)
            staged.append((tmp, target))
            fig.savefig(tmp, format=target.suffix[1:], dpi=PNG_DPI,
                        metadata={"Date": None} if target.suffix == ".svg" else None)
        commit_files(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return targets


def show(fig, dpi: int = 110):
    """The figure as an IPython PNG image (notebooks: shown whatever the matplotlib backend)."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return Image(data=buf.getvalue(), format="png")


# ---- HTML tables ---------------------------------------------------------------------------------

_TABLE_TEMPLATE = """<table{% if id %} id="{{ id }}"{% endif %}{% if cls %} class="{{ cls }}"{% endif %}><thead><tr>
{%- for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{%- for row in rows %}<tr>{% for text, num in row %}<td{% if num %} class="num"{% endif %}>{{ text }}</td>{% endfor %}</tr>
{%- endfor %}</tbody></table>"""


def html_table(headers: list[str], rows: list[list[tuple[object, bool]]], table_id: str | None = None,
               cls: str | None = None) -> str:
    """The one HTML table renderer of every report page: a jinja2 template with autoescaping.

    ``rows``: per row, (text, numeric) per cell; text is escaped unless it is ``markupsafe.Markup``
    (trusted HTML such as links built by the caller); numeric cells are right-aligned.
    """
    import jinja2

    global _TEMPLATE
    if _TEMPLATE is None:
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        _TEMPLATE = env.from_string(_TABLE_TEMPLATE)
    return _TEMPLATE.render(headers=headers, rows=rows, id=table_id, cls=cls)


_TEMPLATE = None
