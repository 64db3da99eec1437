"""Sensitivity charts: tornado (one-at-a-time swings), small multiples of the gap by year,
specification curve, and break-even values beside published ranges. House style from
``analysis.style``; every figure carries a source note naming the base scenario.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis import style  # noqa: E402
from analysis.sensitivity.grid import fmt_value, short_key  # noqa: E402

NOTE = "Organs not explained by declared sources (posterior median, cumulative over the period)."


def _note(fig: Figure, text: str) -> None:
    """Room for the source note (about half an inch) and the note itself."""
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.45 / fig.get_figheight()))
    style.source_note(fig, text)


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}"


def tornado_table(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per period and varied key: the lowest and highest median gap over the one-at-a-time
    points of that key (the key moved, every other key at its base value; base included)."""
    ok = table[table["status"] == "ok"]
    rows = []
    for period, g in ok.groupby("period", sort=False):
        base = g[g["design"] == "base"]
        if base.empty:
            continue
        base_med = float(base["gap_median"].iloc[0])
        for key in keys:
            others = [k for k in keys if k != key]
            mask = np.ones(len(g), bool)
            for k in others:
                mask &= (g[k] == g.loc[base.index[0], k]).to_numpy()
            sl = g[mask]
            if len(sl) < 2:
                continue
            lo_i, hi_i = sl["gap_median"].idxmin(), sl["gap_median"].idxmax()
            rows.append({"period": period, "key": key, "base_gap_median": base_med,
                         "low_gap_median": float(sl.loc[lo_i, "gap_median"]), "low_at": sl.loc[lo_i, key],
                         "high_gap_median": float(sl.loc[hi_i, "gap_median"]), "high_at": sl.loc[hi_i, key],
                         "swing": float(sl["gap_median"].max() - sl["gap_median"].min()),
                         "points": int(len(sl))})
    return pd.DataFrame(rows)


def plot_tornado(tornado: pd.DataFrame, scenario: str) -> Figure:
    style.apply()
    periods = list(dict.fromkeys(tornado["period"]))
    n_keys = max(1, tornado.groupby("period").size().max() if len(tornado) else 1)
    fig, axes = plt.subplots(1, max(1, len(periods)), figsize=(4.2 * max(1, len(periods)), 1.2 + 0.55 * n_keys),
                             squeeze=False)
    for ax, period in zip(axes[0], periods):
        t = tornado[tornado["period"] == period].sort_values("swing")
        y = np.arange(len(t))
        base = float(t["base_gap_median"].iloc[0])
        ax.barh(y, t["high_gap_median"] - t["low_gap_median"], left=t["low_gap_median"],
                color=style.PALETTE["sky"], height=0.6)
        ax.axvline(base, color=style.PALETTE["black"], lw=1, label="base")
        ax.axvline(0, color=style.PALETTE["vermillion"], lw=1, ls="--", label="zero gap")
        for yi, r in zip(y, t.itertuples()):
            ax.annotate(fmt_value(r.low_at), (r.low_gap_median, yi), xytext=(-3, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=7)
            ax.annotate(fmt_value(r.high_at), (r.high_gap_median, yi), xytext=(3, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=7)
        ax.set_yticks(y, [short_key(k) for k in t["key"]])
        ax.set_title(period)
        ax.set_xlabel("median gap (organs)")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _fmt_count(v)))
        lo = min(0.0, base, float(t["low_gap_median"].min()))
        hi = max(0.0, base, float(t["high_gap_median"].max()))
        pad = 0.22 * (hi - lo or 1.0)
        ax.set_xlim(lo - pad, hi + pad)
    axes[0][0].legend(loc="lower right", fontsize=7)
    fig.suptitle("One-at-a-time swings of the period's gap (labels: value of the assumption)")
    fig.tight_layout()
    _note(fig, f"{NOTE} Each bar: one assumption moved over its listed values, every other at the "
               f"base scenario {scenario}.")
    return fig


def plot_small_multiples(by_year: pd.DataFrame, points: pd.DataFrame, scenario: str,
                         max_panels: int = 36) -> Figure:
    """Gap by year (median, 90% interval) for each setting, shared axes."""
    style.apply()
    ids = list(points["point"])[:max_panels]
    n = len(ids)
    cols = min(4, max(1, n))
    rows = int(np.ceil(n / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.1 * rows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, pid in zip(axes.flat, ids):
        d = by_year[by_year["point"] == pid]
        label = points.set_index("point").loc[pid, "label"]
        ax.fill_between(d["year"], d["gap_q05"], d["gap_q95"], color=style.GAP_BAND_COLOUR, alpha=0.35, lw=0)
        ax.plot(d["year"], d["gap_median"], color=style.GAP_COLOUR, lw=1.3)
        ax.axhline(0, color=style.PALETTE["black"], lw=0.7)
        ax.set_title(label if len(label) < 48 else label[:45] + "...", fontsize=7)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _fmt_count(v)))
    fig.suptitle("Organs not explained by declared sources, by year, per setting (median, 90% interval)")
    fig.tight_layout()
    more = f" First {max_panels} of {len(points)} settings." if len(points) > max_panels else ""
    _note(fig, f"Base scenario {scenario}; each panel one setting of the sweep.{more}")
    return fig


def plot_spec_curve(table: pd.DataFrame, keys: list[str], scenario: str) -> Figure:
    """Per period: every setting sorted by its median gap, with 90% intervals; below, the value
    of each varied assumption at that setting."""
    style.apply()
    ok = table[table["status"] == "ok"]
    periods = list(dict.fromkeys(ok["period"]))
    heights = []
    for _ in periods:
        heights += [3, 0.45 * max(1, len(keys))]
    fig, axes = plt.subplots(len(heights), 1, figsize=(9, sum(heights) * 0.9 + 0.8),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for j, period in enumerate(periods):
        ax, axk = axes[2 * j][0], axes[2 * j + 1][0]
        g = ok[ok["period"] == period].sort_values("gap_median").reset_index(drop=True)
        x = np.arange(len(g))
        colours = np.where(g["diagnostics_passed"].astype(bool), style.GAP_COLOUR, style.PALETTE["sky"])
        ax.vlines(x, g["gap_q05"], g["gap_q95"], color=colours, lw=1.5, alpha=0.7)
        ax.scatter(x, g["gap_median"], c=colours, s=14, zorder=3)
        base = g.index[g["design"] == "base"]
        if len(base):
            ax.scatter(x[base], g.loc[base, "gap_median"], s=70, facecolors="none",
                       edgecolors=style.PALETTE["black"], zorder=4, label="base")
            ax.legend(loc="upper left", fontsize=7)
        ax.axhline(0, color=style.PALETTE["black"], lw=0.7)
        ax.set_ylabel("gap (organs)")
        ax.set_title(f"{period}: settings sorted by median gap (90% intervals; light blue = "
                     f"diagnostics gate failed)", fontsize=8)
        ax.set_xticks([])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _fmt_count(v)))
        for i, key in enumerate(keys):
            vals = g[key]
            if len(g) <= 16:  # few settings: write the values
                for xi, v in zip(x, vals):
                    axk.text(xi, i, fmt_value(v), ha="center", va="center", fontsize=6.5)
                continue
            if pd.api.types.is_numeric_dtype(vals) and vals.nunique() > 1:
                v = vals.astype(float)
                scaled = (v - v.min()) / (v.max() - v.min())
            else:
                cats = {c: k for k, c in enumerate(dict.fromkeys(vals.astype(str)))}
                scaled = vals.astype(str).map(cats) / max(1, len(cats) - 1)
            axk.scatter(x, np.full(len(x), i), c=scaled, cmap="cividis", s=12, vmin=0, vmax=1)
        axk.set_yticks(range(len(keys)), [short_key(k) for k in keys], fontsize=7)
        axk.set_xticks([])
        axk.set_xlim(ax.get_xlim())
        axk.grid(False)
        axk.set_ylim(-0.6, len(keys) - 0.4)
    fig.tight_layout()
    legend = ("Below: value of each varied assumption" if len(ok["point"].unique()) <= 16 else
              "Dots below: value of each varied assumption (dark = lowest, light = highest)")
    _note(fig, f"{NOTE} {legend}. Base scenario {scenario}.")
    return fig


def plot_breakeven(table: pd.DataFrame, references: pd.DataFrame, scenario: str) -> Figure:
    """Each break-even value beside the published range (data/raw) or the base prior interval.

    ``references``: quantity, period, ref_low, ref_high, ref_kind ("published" | "prior"), scale
    ("x" or the natural unit), and ``plot_value`` of the break-even on that scale.
    """
    style.apply()
    quantities = list(dict.fromkeys(table["quantity"]))
    fig, axes = plt.subplots(len(quantities), 1, figsize=(8.5, 1.25 * len(quantities) + 1.2),
                             squeeze=False)
    for ax, qname in zip(axes[:, 0], quantities):
        t = references[references["quantity"] == qname].reset_index(drop=True)
        y = np.arange(len(t))
        for yi, r in zip(y, t.itertuples()):
            if pd.notna(r.ref_low):
                colour = style.PALETTE["green"] if r.ref_kind == "published" else "#bbbbbb"
                ax.plot([r.ref_low, r.ref_high], [yi, yi], color=colour, lw=6, alpha=0.7,
                        solid_capstyle="butt")
            if pd.notna(r.plot_value):
                ax.scatter([r.plot_value], [yi], color=style.GAP_COLOUR, zorder=3, s=30, marker="D")
            else:
                note = getattr(r, "note", "")
                text = f"{r.status}: {note}" if isinstance(note, str) and note else str(r.status)
                ax.annotate(text, (0.99, yi), xycoords=("axes fraction", "data"), ha="right",
                            va="center", fontsize=7, color="#555555")
        ax.set_yticks(y, list(t["period"]), fontsize=7)
        ax.set_ylim(-0.7, len(t) - 0.3)
        unit = t["scale_label"].iloc[0] if len(t) else ""
        ax.set_title(f"{qname}: {unit}", fontsize=8, loc="left")
        vals = pd.concat([t["ref_low"], t["ref_high"], t["plot_value"]]).dropna()
        if len(vals) and (vals > 0).all() and vals.max() / vals.min() > 20:
            ax.set_xscale("log")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=style.GAP_COLOUR, marker="D", ls="", label="break-even (median gap = 0)"),
               Line2D([], [], color=style.PALETTE["green"], lw=6, alpha=0.7, label="published range (data/raw)"),
               Line2D([], [], color="#bbbbbb", lw=6, label="base prior 90% interval (no published figure)")]
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    _note(fig, f"Break-even: value of one assumption at which the period's posterior median gap is zero, "
               f"all others at base scenario {scenario} (root search over refits).")
    return fig
