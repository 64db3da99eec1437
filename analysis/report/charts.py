"""Report charts and the tables behind them (``tgap report``, notebook 03).

Every chart function returns a matplotlib Figure made in the house style (``style``) and
carrying a source note naming the scenario; ``style.save`` writes it as PNG and SVG.
Tables are plain DataFrames (one row per year, period or quantity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from analysis import style

if TYPE_CHECKING:  # matplotlib's figure machinery is imported where a chart is drawn: a cached
    from matplotlib.figure import Figure  # report reuses every chart and draws none

QS = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
COMPONENTS = {"prisoners": "prisoner_organs_declared", "donors": "donor_organs", "living": "living"}
SCALARS = ["share_executed_used", "organs_per_executed", "organs_per_donor",
           "deceased_volume_step", "executions_step", "donors_step", "living_step"]
"""Scalar parameters shown in the trace and rank plots (those present in the posterior)."""
FIT_NOTE = ("Source: tgap posterior draws, fitted to the published figures listed (with their publishers) "
            "in the report's Sources table.")
VOLUME_UNITS = ("transplants", "recipients", "organs_transplanted", "organs")


def _stack(da: xr.DataArray) -> np.ndarray:
    """(year, sample) array of a posterior variable."""
    return da.stack(sample=("chain", "draw")).transpose("year", "sample").values


def quantile_columns(prefix: str, draws: np.ndarray) -> dict[str, np.ndarray]:
    """The report's one quantile-table builder: ``{prefix}_{q}`` for q in QS (q05, q25, median,
    q75, q95) of a (row, sample) array, one value per row."""
    q = np.quantile(draws, list(QS.values()), axis=1)
    return {f"{prefix}_{label}": q[i] for i, label in enumerate(QS)}


def _new_figure(figsize) -> Figure:
    from matplotlib.figure import Figure

    style.apply()
    return Figure(figsize=figsize)


# ---- tables -------------------------------------------------------------------------------


def declared_sources_table(idata) -> pd.DataFrame:
    """Per year: quantiles of each declared source, their stacked sums, supply, volume and gap.

    Columns ``<what>_<q>`` for q in q05, q25, median, q75, q95, where what is prisoners, donors,
    living (each source), stack_prisoners, stack_donors (= prisoners + donors, draw by draw),
    supply (= all three), volume, gap; plus ``p_gap_positive``.
    """
    post = idata.posterior
    arrays = {name: _stack(post[var]) for name, var in COMPONENTS.items()}
    arrays["stack_prisoners"] = arrays["prisoners"]
    arrays["stack_donors"] = arrays["prisoners"] + arrays["donors"]
    arrays["supply"] = _stack(post["supply"])
    arrays["volume"] = _stack(post["volume"])
    arrays["gap"] = _stack(post["gap"])
    out = pd.DataFrame({"year": post["year"].values.astype(int)})
    for name, a in arrays.items():
        for col, values in quantile_columns(name, a).items():
            out[col] = values
    out["p_gap_positive"] = (arrays["gap"] > 0).mean(axis=1)
    return out


def cumulative_gap_table(idata, periods: list[tuple[int, int]]) -> pd.DataFrame:
    """Per period and year: quantiles of the gap summed from the period's first year to that year."""
    gap = idata.posterior["gap"]
    rows = []
    for a, b in periods:
        part = gap.sel(year=slice(a, b))
        if part.sizes["year"] == 0:
            continue
        cum = _stack(part.cumsum("year"))
        qs = quantile_columns("cum_gap", cum)
        for i, y in enumerate(part["year"].values):
            rows.append({"period": f"{a}-{b}", "year": int(y), **{k: float(v[i]) for k, v in qs.items()},
                         "p_cum_gap_positive": float((cum[i] > 0).mean())})
    return pd.DataFrame(rows)


def diagnostics_table(idata, periods: list[tuple[int, int]], limits: dict) -> pd.DataFrame:
    """R-hat, bulk/tail ESS and MCSE of the scalar parameters, the yearly gap and the period sums.

    ``gated`` marks the quantities the diagnostics gate checks (yearly gap and period sums);
    ``passes`` says whether the row meets the scenario's limits.
    """
    import arviz as az

    from analysis.model.summarize import period_draws

    post = idata.posterior
    ds = xr.Dataset({v: post[v] for v in SCALARS if v in post})
    ds["gap"] = post["gap"]
    ds["gap_period"] = period_draws(idata, periods)
    summ = az.summary(ds, kind="all", round_to="none")
    out = summ.reset_index().rename(columns={"index": "quantity"})
    out = out[["quantity", "mean", "sd", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]]
    out["gated"] = out["quantity"].str.startswith("gap")
    out["passes"] = ((out["r_hat"] <= limits["max_rhat"]) & (out["ess_bulk"] >= limits["min_ess_bulk"])
                     & (out["ess_tail"] >= limits["min_ess_tail"]))
    return out


def volume_observations(obs: pd.DataFrame, evidence=None) -> pd.DataFrame:
    """Single-year total-volume figures (all organs, all donor types) with a ``used`` column:
    True when the row enters the model under the scenario (it is in the evidence rows)."""
    o = obs[(obs["family"] == "volumes") & (obs["unit"].isin(VOLUME_UNITS))
            & (obs["organ"].replace("", "all") == "all") & (obs["donor_type"].replace("", "all") == "all")
            & (obs["year_end"].astype(int) == obs["year"].astype(int))].copy()
    used = set(evidence.rows["obs_id"]) if evidence is not None else set(o["obs_id"])
    o["used"] = o["obs_id"].isin(used)
    return o.reset_index(drop=True)


# ---- charts -------------------------------------------------------------------------------


def publishers_note(observations: pd.DataFrame | None, publishers: dict[str, str] | None,
                    what: str = "Points: published single-year volume figures from") -> str:
    """'Points: published single-year volume figures (A, B, C; ...).' naming the sources' publishers."""
    if observations is None or not len(observations):
        return ""
    pubs = publishers or {}
    names = sorted({pubs.get(s) or s for s in observations["source_id"]})
    shown = "; ".join(names[:6]) + (f"; and {len(names) - 6} more" if len(names) > 6 else "")
    return f"{what}: {shown} (full list in the report's Sources)."


def plot_main(table: pd.DataFrame, scenario: str, observations: pd.DataFrame | None = None,
              publishers: dict[str, str] | None = None) -> Figure:
    """Transplant volume against the declared sources, by year.

    Declared sources stacked (posterior medians of the running sums, with the 90% interval of each
    running sum as a light band); the volume's median and 90% band; hatched, the part of the
    volume above the declared supply (medians); published volume figures overlaid (colour = source
    kind, marker = kind; hollow = not entering the model under this scenario).
    """
    fig = _new_figure((11.5, 6.2))
    ax = fig.add_axes((0.07, 0.14, 0.66, 0.78))
    t = table
    x = t["year"].to_numpy()
    ax.fill_between(x, t["volume_q05"], t["volume_q95"], color=style.VOLUME_COLOUR, alpha=0.15, lw=0,
                    label="transplant volume, 90% interval", zorder=1)
    lower = np.zeros(len(t))
    bounds = {"prisoners": "stack_prisoners", "donors": "stack_donors", "living": "supply"}
    for i, (comp, col) in enumerate(bounds.items()):
        upper = t[f"{col}_median"].to_numpy()
        colour = style.DECLARED_COLOURS[comp]
        ax.fill_between(x, lower, upper, color=colour, alpha=0.7, lw=0, label=style.DECLARED_LABELS[comp],
                        zorder=2)
        # 90% interval of the running sum up to this source: whiskers at the layer's top edge, only in
        # years where this source contributes (no donors whisker before donation began)
        shown = (t[f"{comp}_q95"] > 0).to_numpy()
        ax.vlines(x[shown] + (i - 1) * 0.18, t.loc[shown, f"{col}_q05"], t.loc[shown, f"{col}_q95"],
                  color=colour, lw=1.3, zorder=3)
        lower = upper
    ax.plot([], [], color="grey", lw=1.3, label="90% interval of the stacked sum (whiskers)")
    ax.plot(x, t["volume_median"], color=style.VOLUME_COLOUR, lw=2.2, label="transplant volume, median",
            zorder=4)
    for q in ("q05", "q95"):  # the band's edges stay visible where the stacked areas cover it
        ax.plot(x, t[f"volume_{q}"], color=style.VOLUME_COLOUR, lw=0.8, ls="--", zorder=4)
    over = t["volume_median"] > t["supply_median"]
    ax.fill_between(x, t["supply_median"], t["volume_median"], where=over, interpolate=True,
                    facecolor="none", edgecolor=style.GAP_COLOUR, hatch="////", lw=0, zorder=3,
                    label="not explained by declared sources (medians)")
    top = 1.12 * float(max(t["volume_q95"].max(), t["supply_q95"].max()))
    notes = []
    legend = ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="model (posterior)",
                       title_fontsize=7.5)
    if observations is not None and len(observations):
        ax.add_artist(legend)
        notes = _overlay_observations(ax, observations, top)
    ax.set_ylim(0, top)
    ax.set_xlim(x.min() - 0.5, x.max() + 0.5)
    ax.set_ylabel("organs transplanted per year")
    ax.set_xlabel("year")
    ax.set_title(f"Transplant volume vs declared sources, scenario {scenario}")
    style.thousands(ax)
    style.year_axis(ax)
    source = (f"{FIT_NOTE} Stacked areas: posterior medians of the declared sources' running sums. "
              f"{publishers_note(observations, publishers)}"
              f"{' ' + ' '.join(notes) if notes else ''}")
    style.finish(fig, scenario, source, bottom=0.14)
    return fig


def _overlay_observations(ax, obs: pd.DataFrame, top: float) -> list[str]:
    from matplotlib.lines import Line2D

    handles, kinds_seen, colours_seen = [], set(), set()
    above = []
    for r in obs.itertuples():
        colour = style.SOURCE_KIND_COLOURS.get(r.source_kind, "grey")
        marker = style.KIND_MARKERS.get(r.kind, "o")
        face = colour if r.used else "none"
        lo, hi = getattr(r, "low", np.nan), getattr(r, "high", np.nan)
        v = r.value if pd.notna(r.value) else np.nanmean([lo, hi])
        if pd.notna(lo) and pd.notna(hi):
            ax.vlines(r.year, lo, min(hi, top), colors=colour, lw=1.6, alpha=0.9, zorder=4)
        if v > top:
            above.append((r.year, v))
            ax.scatter(r.year, top * 0.985, marker=r"$\uparrow$", s=40, color=colour, zorder=6)
        else:
            ax.scatter(r.year, v, marker=marker, s=28, facecolors=face, edgecolors="black" if r.used
                       else colour, lw=0.6 if r.used else 1.2, zorder=6)
        kinds_seen.add(r.kind)
        colours_seen.add(r.source_kind)
    for k, c in style.SOURCE_KIND_COLOURS.items():
        if k in colours_seen:
            handles.append(Line2D([], [], color=c, marker="o", ls="", label=k.replace("_", " ")))
    for k, m in style.KIND_MARKERS.items():
        if k in kinds_seen:
            handles.append(Line2D([], [], color="grey", marker=m, ls="", label=k.replace("_", " ")))
    handles.append(Line2D([], [], color="grey", marker="o", markerfacecolor="none", ls="",
                          label="not in the model"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 0.48),
              title="published figures", title_fontsize=7.5)
    if above:
        vals = ", ".join(f"{y}: {v:,.0f}" for y, v in sorted(above))
        return [f"Arrows: {len(above)} figure(s) above the axis ({vals})."]
    return []


def plot_gap_by_year(gap_by_year: pd.DataFrame, scenario: str) -> Figure:
    """Gap by year: median, 50% and 90% intervals (top); P(gap > 0) (bottom)."""
    fig = _new_figure((10, 5.8))
    ax, axp = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    g = gap_by_year
    ax.fill_between(g["year"], g["gap_q05"], g["gap_q95"], color=style.GAP_BAND_COLOUR, alpha=0.3,
                    lw=0, label="90% interval")
    ax.fill_between(g["year"], g["gap_q25"], g["gap_q75"], color=style.GAP_BAND_COLOUR, alpha=0.65,
                    lw=0, label="50% interval")
    ax.plot(g["year"], g["gap_median"], color=style.GAP_COLOUR, lw=1.8, label="median")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("organs per year")
    ax.set_title(f"Organs not explained by declared sources under scenario {scenario}")
    ax.legend(fontsize=7, loc="upper left")
    axp.bar(g["year"], g["p_gap_positive"], color=style.PROBABILITY_COLOUR, width=0.7)
    axp.axhline(0.5, color="black", lw=0.6, ls=":")
    axp.set_ylim(0, 1)
    axp.set_ylabel("P(gap > 0)")
    axp.set_xlabel("year")
    style.thousands(ax)
    style.year_axis(axp)
    style.finish(fig, scenario, f"{FIT_NOTE} Gap = transplant volume minus declared supply; "
                 "negative = declared sources could have supplied more than was transplanted.",
                 bottom=0.12)
    return fig


def plot_periods(gap_by_period: pd.DataFrame, cumulative: pd.DataFrame, scenario: str) -> Figure:
    """Left: gap summed over each period (median, 50%, 90%, P(gap > 0)); right: the gap
    accumulated year by year within each period (median and 90% interval)."""
    fig = _new_figure((11, 4.8))
    ax, axc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    p = gap_by_period.reset_index(drop=True)
    y = np.arange(len(p))[::-1]
    ax.hlines(y, p["gap_q05"], p["gap_q95"], color=style.GAP_BAND_COLOUR, lw=2, label="90% interval")
    ax.hlines(y, p["gap_q25"], p["gap_q75"], color=style.GAP_COLOUR, lw=6, label="50% interval")
    ax.scatter(p["gap_median"], y, color="black", zorder=3, s=18, label="median")
    for yi, r in zip(y, p.itertuples()):
        ax.annotate(f"P(gap > 0) = {r.p_gap_positive:.2f}", (r.gap_median, yi), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, p["period"])
    ax.set_ylim(-0.7, len(p) - 0.3)
    ax.set_xlabel("organs, summed over the period")
    ax.set_title("Gap summed over each period", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    colours = [style.PALETTE["blue"], style.PALETTE["vermillion"], style.PALETTE["green"],
               style.PALETTE["purple"], style.PALETTE["orange"]]
    for i, (period, c) in enumerate(cumulative.groupby("period", sort=False)):
        col = colours[i % len(colours)]
        axc.fill_between(c["year"], c["cum_gap_q05"], c["cum_gap_q95"], color=col, alpha=0.2, lw=0)
        axc.plot(c["year"], c["cum_gap_median"], color=col, lw=1.8, label=period)
    axc.axhline(0, color="black", lw=0.8)
    axc.set_title("Gap accumulated within each period (median, 90%)", fontsize=9)
    axc.set_ylabel("organs since the period began")
    axc.legend(fontsize=7, loc="upper left")
    style.thousands(ax, "x")
    style.thousands(axc, "y")
    style.year_axis(axc)
    fig.suptitle(f"Cumulative organs not explained by declared sources, scenario {scenario}")
    style.finish(fig, scenario, f"{FIT_NOTE} Sums are taken draw by draw.", bottom=0.14)
    return fig


def plot_predictive_target(table: pd.DataFrame, target: str, scenario: str,
                           publishers: dict[str, str] | None = None) -> Figure:
    """One target's published figures against the posterior predictive 90% interval.

    x = (mid-)year of the figure; a figure's predictive interval is the vertical bar behind it.
    Colour = source group; triangle up = lower bound, down = upper bound; a line = a range.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = table[table["target"] == target].sort_values(["year", "series", "obs_id"]).reset_index(drop=True)
    fig = _new_figure((10, 4.4))
    ax = fig.add_subplot()
    group_colours = {"official": style.PALETTE["blue"], "international": style.PALETTE["green"],
                     "independent": style.PALETTE["vermillion"]}
    mid = (t["year"].astype(float) + t["year_end"].astype(float)) / 2
    jitter = t.groupby(mid).cumcount()
    n_same = t.groupby(mid)["obs_id"].transform("size")
    x = mid + (jitter - (n_same - 1) / 2) * np.minimum(0.8 / n_same.clip(lower=1), 0.12)
    ax.vlines(x, t["pred_q05"], t["pred_q95"], color=style.PALETTE["sky"], lw=3.2, alpha=0.55)
    groups = t["group"] if "group" in t else pd.Series("official", index=t.index)
    colour = groups.map(group_colours).fillna("grey")
    point = t["mode"] == "point"
    lower = ~point & (t["hi"] >= 999)
    upper = ~point & (t["lo"] <= -999)
    rng = ~point & ~lower & ~upper
    ax.scatter(x[point], t.loc[point, "observed_lo"], s=14, c=colour[point], zorder=3)
    ax.scatter(x[lower], t.loc[lower, "observed_lo"], s=22, marker="^", c=colour[lower], zorder=3)
    ax.scatter(x[upper], t.loc[upper, "observed_hi"], s=22, marker="v", c=colour[upper], zorder=3)
    ax.vlines(x[rng], t.loc[rng, "observed_lo"], t.loc[rng, "observed_hi"], colors=colour[rng], lw=1.4,
              zorder=3)
    if target != "shares":
        ax.set_yscale("log")
        ax.set_ylabel("reported figure (log scale)")
    else:
        ax.set_ylabel("share")
    inside = int(t["inside_90"].sum())
    ax.set_title(f"{target}: {inside} of {len(t)} figures inside the posterior predictive 90% interval",
                 fontsize=9)
    handles = [Patch(color=style.PALETTE["sky"], alpha=0.55, label="posterior predictive 90%")]
    handles += [Line2D([], [], color=c, marker="o", ls="", label=g) for g, c in group_colours.items()
                if g in set(groups)]
    handles += [Line2D([], [], color="grey", marker="^", ls="", label="lower bound"),
                Line2D([], [], color="grey", marker="v", ls="", label="upper bound")]
    ax.legend(handles=handles, fontsize=7, ncol=3, loc="best")
    ax.set_xlabel("year (mid-year for multi-year figures)")
    style.year_axis(ax)
    if target != "shares":
        style.thousands(ax)
    style.finish(fig, scenario, f"{FIT_NOTE} Each published figure that enters the model "
                 "(evidence_used.csv) against the distribution the fitted model predicts for it. "
                 + publishers_note(t if "source_id" in t else None, publishers, "Figures from"),
                 bottom=0.22)
    return fig


def trace_dataset(idata) -> xr.Dataset:
    """What the trace plots are drawn from: the scalar parameters' posterior draws."""
    post = idata.posterior
    return xr.Dataset({v: post[v] for v in SCALARS if v in post})


def rank_dataset(idata, periods: list[tuple[int, int]]) -> xr.Dataset:
    """What the rank plots are drawn from: the scalar parameters and the gap's period sums, per draw."""
    from analysis.model.summarize import period_draws

    ds = trace_dataset(idata)
    per = period_draws(idata, periods)
    for label in per["period"].values:
        ds[f"gap {label}"] = per.sel(period=label, drop=True)
    return ds


def plot_trace(idata, scenario: str, var_names: list[str] | None = None) -> Figure:
    """Trace plots (density and draws per chain) of the scalar parameters (``idata``: an
    InferenceData or the Dataset of ``trace_dataset``)."""
    import arviz as az

    post = getattr(idata, "posterior", idata)
    names = var_names or [v for v in SCALARS if v in post]
    fig = _new_figure((10, 1.5 * len(names) + 1))
    axes = fig.subplots(len(names), 2, squeeze=False)
    az.plot_trace(post, var_names=names, axes=axes, compact=False, chain_prop={"color": style.CYCLE[:4]})
    for row in axes:
        for a in row:
            a.title.set_fontsize(8)
    fig.suptitle(f"Trace plots, scenario {scenario}")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    style.finish(fig, scenario, f"{FIT_NOTE} One colour per chain.", bottom=0.05)
    return fig


def plot_rank(idata, periods: list[tuple[int, int]], scenario: str) -> Figure:
    """Rank plots of the scalar parameters and the period sums of the gap (uniform when chains agree).
    ``idata``: an InferenceData, or the Dataset of ``rank_dataset`` (then ``periods`` is not used)."""
    import arviz as az

    ds = rank_dataset(idata, periods) if hasattr(idata, "posterior") else idata
    names = list(ds.data_vars)
    ncols = 3
    nrows = int(np.ceil(len(names) / ncols))
    fig = _new_figure((10, 2.0 * nrows + 1))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    az.plot_rank(ds, var_names=names, ax=axes.ravel()[: len(names)], kind="bars")
    for a in axes.ravel()[len(names):]:
        a.set_axis_off()
    for a in axes.ravel():
        a.title.set_fontsize(8)
        a.xaxis.label.set_fontsize(7)
        a.yaxis.label.set_fontsize(7)
    fig.suptitle(f"Rank plots, scenario {scenario}")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    style.finish(fig, scenario, f"{FIT_NOTE} Ranks of each chain's draws among all draws; "
                 "flat bars = chains agree.", bottom=0.05)
    return fig


def plot_diagnostics(table: pd.DataFrame, limits: dict, scenario: str) -> Figure:
    """R-hat and bulk/tail ESS of every quantity in ``diagnostics_table``, with the gate's limits."""
    fig = _new_figure((10, 5))
    ax_r, ax_e = fig.subplots(1, 2, sharey=True)
    t = table.reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    colour = np.where(t["gated"], style.PALETTE["blue"], style.PALETTE["orange"])
    ax_r.scatter(t["r_hat"], y, c=colour, s=12)
    ax_r.axvline(limits["max_rhat"], color=style.GAP_COLOUR, ls="--", lw=1,
                 label=f"limit {limits['max_rhat']}")
    ax_r.set_xlabel("R-hat")
    ax_e.scatter(t["ess_bulk"], y, c=colour, s=12, marker="o", label="bulk")
    ax_e.scatter(t["ess_tail"], y, c=colour, s=14, marker="x", label="tail")
    ax_e.axvline(limits["min_ess_bulk"], color=style.GAP_COLOUR, ls="--", lw=1,
                 label=f"limit {limits['min_ess_bulk']}")
    ax_e.set_xlabel("effective sample size")
    step = max(1, len(t) // 40)
    ax_r.set_yticks(y[::step], t["quantity"][::step], fontsize=6)
    ax_r.legend(fontsize=7, loc="lower right")
    ax_e.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Convergence diagnostics, scenario {scenario} (blue: gated quantities)")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    style.finish(fig, scenario, f"{FIT_NOTE} Gate: R-hat <= {limits['max_rhat']}, bulk and tail ESS >= "
                 f"{limits['min_ess_bulk']}/{limits['min_ess_tail']} for the yearly gap and period sums.",
                 bottom=0.06)
    return fig
