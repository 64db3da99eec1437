"""Charts of a fit (notebook 02 and reports): predictive checks, gap by year, diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import style


def predictive_table(idata, evidence, group: str = "posterior_predictive") -> pd.DataFrame:
    """Per likelihood row: observed bounds and the 5/50/95% predictive quantiles (report scale)."""
    out = []
    for lik, var in (("count", "obs_count"), ("share", "obs_share")):
        rows = evidence.rows[evidence.rows["likelihood"] == lik].reset_index(drop=True)
        if rows.empty or var not in getattr(idata, group, {}):
            continue
        draws = idata[group][var].stack(sample=("chain", "draw")).transpose(..., "sample").values
        q = np.quantile(draws, [0.05, 0.5, 0.95], axis=1)
        inv = (lambda x: 1 / (1 + np.exp(-x))) if lik == "share" else np.exp
        cols = ["obs_id", "source_id", "group", "target", "quantity", "series", "year", "year_end", "mode",
                "lo", "hi"]
        t = rows[[c for c in cols if c in rows.columns]].copy()
        # open ends of bounds (+-1e3 on the log/logit scale) are infinite on the report scale
        t["observed_lo"] = np.where(t["lo"] <= -999, 0.0,
                                    inv(np.clip(t["lo"], -700, 700)))
        t["observed_hi"] = np.where(t["hi"] >= 999, np.inf, inv(np.clip(t["hi"], -700, 700)))
        t["pred_q05"], t["pred_median"], t["pred_q95"] = inv(q[0]), inv(q[1]), inv(q[2])
        inside = (t["observed_hi"] >= t["pred_q05"]) & (t["observed_lo"] <= t["pred_q95"])
        t["inside_90"] = inside
        out.append(t)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def plot_predictive(table: pd.DataFrame, title: str):
    """Observed figures against predictive 90% intervals, one panel per target."""
    import matplotlib.pyplot as plt  # here, not at the top: the report needs only predictive_table

    style.apply()
    targets = [t for t in ["volume", "executions", "donors", "living", "shares"] if t in set(table["target"])]
    fig, axes = plt.subplots(len(targets), 1, figsize=(10, 2.4 * len(targets)), squeeze=False)
    for ax, target in zip(axes[:, 0], targets):
        t = table[table["target"] == target].sort_values(["year", "obs_id"]).reset_index(drop=True)
        x = np.arange(len(t))
        ax.vlines(x, t["pred_q05"], t["pred_q95"], color=style.PALETTE["sky"], lw=3, alpha=0.7,
                  label="predictive 90%")
        pts = t["mode"] == "point"
        ax.scatter(x[pts], t.loc[pts, "observed_lo"], s=10, color=style.PALETTE["black"], zorder=3,
                   label="reported")
        lo_b = ~pts & (t["hi"] >= 999)
        hi_b = ~pts & (t["lo"] <= -999)
        ax.scatter(x[lo_b], t.loc[lo_b, "observed_lo"], marker="^", s=14, color=style.PALETTE["vermillion"],
                   zorder=3, label="lower bound")
        ax.scatter(x[hi_b], t.loc[hi_b, "observed_hi"], marker="v", s=14, color=style.PALETTE["purple"],
                   zorder=3, label="upper bound")
        if target != "shares":
            ax.set_yscale("log")
        ax.set_title(f"{target}: {int(t['inside_90'].sum())}/{len(t)} figures inside the 90% band", fontsize=9)
        ax.set_xticks(x[:: max(1, len(x) // 15)], t["year"].iloc[:: max(1, len(x) // 15)])
    axes[0, 0].legend(fontsize=7, ncol=4)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gap(gap_by_year: pd.DataFrame, scenario: str, ax=None):
    """Gap by year with 50% and 90% intervals, and P(gap > 0) on a second axis."""
    import matplotlib.pyplot as plt

    style.apply()
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    g = gap_by_year
    ax.fill_between(g["year"], g["gap_q05"], g["gap_q95"], color=style.PALETTE["orange"], alpha=0.3, label="90%")
    ax.fill_between(g["year"], g["gap_q25"], g["gap_q75"], color=style.PALETTE["orange"], alpha=0.6, label="50%")
    ax.plot(g["year"], g["gap_median"], color=style.PALETTE["vermillion"], label="median")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("organs per year")
    ax.set_title(f"Organs not explained by declared sources under scenario {scenario}")
    ax2 = ax.twinx()
    ax2.plot(g["year"], g["p_gap_positive"], color=style.PALETTE["blue"], ls="--", lw=1, label="P(gap > 0)")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("P(gap > 0)")
    ax2.grid(False)
    ax.legend(loc="upper left", fontsize=7)
    ax2.legend(loc="upper right", fontsize=7)
    return ax


def plot_volume_supply(gap_by_year: pd.DataFrame, scenario: str, ax=None):
    """Volume band against declared supply, stacked by source (posterior means)."""
    import matplotlib.pyplot as plt

    style.apply()
    ax = ax or plt.subplots(figsize=(9, 4))[1]
    g = gap_by_year
    ax.stackplot(g["year"], g["prisoner_organs_mean"], g["donor_organs_mean"], g["living_mean"],
                 labels=["executed prisoners (declared)", "voluntary donors", "living donors"],
                 colors=[style.PALETTE["purple"], style.PALETTE["green"], style.PALETTE["yellow"]], alpha=0.7)
    ax.fill_between(g["year"], g["volume_q05"], g["volume_q95"], color=style.PALETTE["blue"], alpha=0.25,
                    label="transplant volume (90%)")
    ax.plot(g["year"], g["volume_mean"], color=style.PALETTE["blue"])
    ax.set_ylabel("organs per year")
    ax.set_title(f"Transplant volume vs declared sources, scenario {scenario}")
    ax.legend(fontsize=7, loc="upper left")
    return ax
