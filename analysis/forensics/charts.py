"""Charts for ``run_forensics`` (matplotlib, Agg canvas, no pyplot state), written atomically.

- ``forensics_fits.png``: each target series, annual and cumulative, with every fitted curve;
- ``forensics_benchmark.png``: distribution of log10(1 - R²) over benchmark countries per target
  series and model (annual form), the target marked;
- ``forensics_ratios.png``: per ratio and year, the range over GODT countries (min-max, 5-95 %,
  median) with the target country's value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis import style
from analysis.forensics.fits import curve
from analysis.forensics.output import atomic_write

SOURCE = ("Source: tgap forensic checks (docs/forensics.md) of the published official series and the "
          "WHO-ONT Global Observatory on Donation and Transplantation (GODT) country-year exports.")


def _title(name: str) -> str:
    """A series or ratio name for a title: 'official_total' -> 'Official total'."""
    text = str(name).replace("_", " ").replace("godt", "GODT").replace("actual dd", "actual deceased donors")
    text = "DCD share" if text == "dcd share" else text
    return text[:1].upper() + text[1:]


def _figure(figsize) -> Figure:
    style.apply()
    return Figure(layout="constrained", figsize=figsize)

FLOOR = 1e-16  # 1 - R² of an exact fit is drawn at this value on the log axis


def _save(fig: Figure, path: Path) -> None:
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    style.source_note(fig, SOURCE)
    FigureCanvasAgg(fig)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def fits_chart(fitted: dict, path: Path) -> None:
    """Series with each fit: one row per target series, columns annual / cumulative."""
    names = list(fitted)
    fig = _figure((11, 3.2 * max(len(names), 1) + 0.6))
    axes = fig.subplots(max(len(names), 1), 2, squeeze=False)
    for i, name in enumerate(names):
        _, fits, _, _ = fitted[name]
        for j, form in enumerate(("annual", "cumulative")):
            ax = axes[i, j]
            fs = [f for f in fits if f.form == form]
            if not fs:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"{_title(name)}, {form}: not fitted (years not consecutive)",
                        ha="center", va="center", fontsize=8, color=style.NOTE_COLOUR, transform=ax.transAxes)
                continue
            f0 = fs[0]
            ax.plot(f0.years, f0.y, "o", color=style.PALETTE["black"], label="reported")
            grid = np.linspace(f0.x.min(), f0.x.max(), 200)
            for f in fs:
                if f.converged:
                    ax.plot(grid + f0.years[0] - 1, curve(f.model, grid, f.coefficients),
                            label=f"{f.model} (1-R²={f.one_minus_r2:.2g})")
            ax.set_title(f"{_title(name)}, {form}", fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            style.thousands(ax)
            ax.legend(fontsize=7)
    _save(fig, path)


def benchmark_chart(fitted: dict, path: Path, models=("quadratic", "quadratic_origin")) -> None:
    """Histogram of log10(1 - R²) over countries, target marked, annual form."""
    names = [n for n in fitted if len(fitted[n][2])]
    fig = _figure((5 * len(models), 3 * max(len(names), 1) + 0.6))
    axes = fig.subplots(max(len(names), 1), len(models), squeeze=False)
    for i, name in enumerate(names):
        _, fits, bench, _ = fitted[name]
        for j, model in enumerate(models):
            ax = axes[i, j]
            sel = bench[(bench["form"] == "annual") & (bench["model"] == model)]["one_minus_r2"]
            vals = np.log10(np.clip(sel.dropna().to_numpy(dtype=float), FLOOR, None))
            if vals.size:
                ax.hist(vals, bins=20, color=style.PALETTE["sky"])
            target = [f for f in fits if f.form == "annual" and f.model == model]
            if target:
                t = np.log10(max(target[0].one_minus_r2, FLOOR))
                ax.axvline(t, color=style.PALETTE["vermillion"], label=f"target {target[0].one_minus_r2:.2g}")
                ax.legend(fontsize=7)
            ax.set_title(f"{_title(name)}: {model.replace('_', ' ')} fit, annual (n={vals.size} countries)",
                         fontsize=9)
            ax.set_xlabel("log10(1 - R²)")
    _save(fig, path)


def ratios_chart(table: pd.DataFrame, path: Path, country: str) -> None:
    """Per ratio: the range over GODT countries by year, the target country's values."""
    names = sorted(table["ratio"].unique()) if len(table) else []
    fig = _figure((5 * max(len(names), 1), 4.1))
    axes = fig.subplots(1, max(len(names), 1), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=False):
        t = table[table["ratio"] == name].set_index("year").sort_index()
        t = t.reindex(range(int(t.index.min()), int(t.index.max()) + 1)).rename_axis("year").reset_index()
        ax.fill_between(t["year"], t["min"], t["max"], color=style.PALETTE["sky"], alpha=0.25, lw=0,
                        label="min-max")
        ax.fill_between(t["year"], t["p05"], t["p95"], color=style.PALETTE["sky"], alpha=0.5, lw=0,
                        label="5-95 %")
        ax.plot(t["year"], t["median"], "-", color=style.PALETTE["blue"], label="median")
        ax.plot(t["year"], t["target_value"], "o", color=style.PALETTE["vermillion"], label=country)
        if name == "kidney_to_liver":
            ax.set_yscale("log")
        ax.set_title(_title(name), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    _save(fig, path)


CHARTS = ("forensics_fits.png", "forensics_benchmark.png", "forensics_ratios.png")


def write_charts(fitted: dict, ratio_table: pd.DataFrame, out_dir: Path, country: str) -> list[str]:
    """All three charts into ``out_dir``; returns the names of the files present afterwards."""
    out_dir = Path(out_dir)
    fits_chart(fitted, out_dir / CHARTS[0])
    benchmark_chart(fitted, out_dir / CHARTS[1])
    ratios_chart(ratio_table, out_dir / CHARTS[2], country)
    return [c for c in CHARTS if (out_dir / c).exists()]
