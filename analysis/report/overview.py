"""Data-overview charts and tables (notebook 01): series by year, coverage, sources, conflicts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis import style

FAMILY_TITLES = {"volumes": "Transplant volumes", "executions": "Executions",
                 "donation": "Voluntary deceased donation", "living_and_share": "Living donors and shares"}


def plot_family(obs: pd.DataFrame, family: str, ax=None, single_year_only: bool = True):
    """Every series of a family by year: colour = source kind, marker = kind; ranges as bars,
    bounds as triangles, multi-year figures as horizontal segments at their per-year level."""
    style.apply()
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    f = obs[obs["family"] == family]
    if family == "living_and_share":
        f = f[f["unit"] != "share"]
    for r in f.itertuples():
        colour = style.SOURCE_KIND_COLOURS.get(r.source_kind, "grey")
        marker = style.KIND_MARKERS.get(r.kind, "o")
        span = r.year_end - r.year + 1
        per_year = 1.0 if r.kind != "cumulative" else 1.0 / span
        v = r.value if pd.notna(r.value) else np.nanmean([r.low, r.high])
        if r.year_end > r.year:
            if single_year_only and r.kind == "cumulative":
                continue
            ax.hlines(v * per_year, r.year, r.year_end, colors=colour, alpha=0.5, lw=1.2)
        elif pd.notna(r.low) and pd.notna(r.high):
            ax.vlines(r.year, r.low, r.high, colors=colour, lw=2, alpha=0.8)
        else:
            ax.scatter(r.year, v, color=colour, marker=marker, s=18, alpha=0.85, zorder=3)
    ax.set_yscale("log")
    ax.set_title(FAMILY_TITLES.get(family, family))
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=k.replace("_", " "))
               for k, c in style.SOURCE_KIND_COLOURS.items() if k in set(f["source_kind"])]
    handles += [plt.Line2D([], [], color="grey", marker=m, ls="", label=k.replace("_", " "))
                for k, m in style.KIND_MARKERS.items() if k in set(f["kind"])]
    ax.legend(handles=handles, fontsize=7, ncol=2, loc="best")
    return ax


def coverage(obs: pd.DataFrame) -> pd.DataFrame:
    """Series x year: number of observations covering the year (multi-year rows count each year)."""
    rows = []
    for r in obs.itertuples():
        for y in range(int(r.year), int(r.year_end) + 1):
            rows.append((f"{r.family}: {r.series}", y))
    cov = pd.DataFrame(rows, columns=["series", "year"])
    return cov.pivot_table(index="series", columns="year", aggfunc="size", fill_value=0)


def plot_coverage(obs: pd.DataFrame, year_min: int = 1990, max_series: int = 60):
    style.apply()
    cov = coverage(obs)
    cov = cov.loc[:, [c for c in cov.columns if c >= year_min]]
    cov = cov.loc[cov.sum(axis=1).sort_values(ascending=False).index[:max_series]].sort_index()
    fig, ax = plt.subplots(figsize=(10, 0.18 * len(cov) + 1.5))
    ax.imshow((cov > 0).to_numpy(), aspect="auto", cmap="Blues", interpolation="nearest")
    ax.set_yticks(range(len(cov)), cov.index, fontsize=6)
    ax.set_xticks(range(len(cov.columns)), cov.columns, rotation=90, fontsize=6)
    ax.grid(False)
    ax.set_title("Which years each series covers")
    return fig


def sources_table(obs: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    counts = obs.groupby("source_id").size().rename("observations")
    out = sources.set_index("source_id").join(counts, how="left").fillna({"observations": 0})
    cols = ["title", "author", "published", "kind", "affiliation", "observations", "url"]
    return out[cols].sort_values(["kind", "published"])


def conflicting_pairs(obs: pd.DataFrame, rel_tol: float = 0.02) -> pd.DataFrame:
    """Pairs of sources reporting the same quantity (family, unit, organ, donor type, years, kind)
    with figures that differ by more than rel_tol."""
    key = ["family", "unit", "organ", "donor_type", "year", "year_end", "kind"]
    pts = obs[obs["value"].notna()]
    rows = []
    for k, g in pts.groupby(key, dropna=False):
        g = g.drop_duplicates(["source_id", "value"])
        if g["source_id"].nunique() < 2:
            continue
        recs = list(g.itertuples())
        for i, a in enumerate(recs):
            for b in recs[i + 1:]:
                if a.source_id == b.source_id:
                    continue
                diff = abs(a.value - b.value) / max(a.value, b.value)
                if diff > rel_tol:
                    rows.append(dict(zip(key, k)) | {"source_a": a.source_id, "value_a": a.value,
                                                     "source_b": b.source_id, "value_b": b.value,
                                                     "rel_diff": round(diff, 3)})
    return pd.DataFrame(rows)
