"""Model criticism per claim: PSIS-LOO, Pareto k, LOO-PIT; influential and worst-fitting claims.

Every count row that measures a figure (a point or a range) is left out in turn by Pareto-smoothed
importance sampling (ArviZ's ``psislw`` on the row's log-likelihood draws): ``elpd_loo`` is the
log predictive density of the row's own figure from a fit that did not see it; ``pareto_k`` says
how far that fit would move without the row (k > 0.7: the importance estimate is unreliable and the
row alone moves the posterior, i.e. it is influential). One-sided claims (recorded minimums, upper
bounds, capacities, partial-year counts, and "over X" figures: intervals with an open end) are left
out of LOO: a satisfied bound contributes a
log-likelihood near 0 whatever the fit, so its LOO term measures nothing about the figure, and a
PIT is undefined for it. LOO-PIT (point rows only) is the leave-one-out predictive probability of a
replicated report below the published one: well-calibrated predictions give a uniform histogram;
values near 0 or 1 mark figures the rest of the evidence cannot reproduce.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.model.inputs import CLASSES, design
from analysis.model.units import INF

RATE_COLUMNS = ("elpd_loo", "pareto_k", "loo_pit", "pit_tail")  # written with 4 decimals
PARETO_K_BAD = 0.7  # Vehtari et al. (2017/2024): above 0.7 the PSIS estimate is unreliable
COLUMNS = ["obs_id", "source_id", "origin", "series", "class", "year", "year_end", "figure", "mode",
           "elpd_loo", "pareto_k", "loo_pit", "pit_tail"]


def _figure(r) -> str:
    if r.mode == "point":
        return f"{np.exp(r.lo):,.0f}"
    lo = "" if r.lo <= -INF else f"{np.exp(r.lo):,.0f}"
    hi = "" if r.hi >= INF else f"{np.exp(r.hi):,.0f}"
    return f"{lo}-{hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")


def _stacked(group, var: str) -> np.ndarray:
    """(rows, samples) draws of a per-row variable."""
    da = group[var].stack(sample=("chain", "draw"))
    return da.transpose(da.dims[0], "sample").values


def psis_loo(ll: np.ndarray, y_rep: np.ndarray | None = None, y: np.ndarray | None = None):
    """PSIS-LOO from (rows, samples) log-likelihood draws: (elpd_loo per row, Pareto k per row,
    LOO-PIT per row or NaN). ``y_rep`` (rows, samples) replicated values and ``y`` (rows) the
    observed ones give the PIT: the leave-one-out probability of a replicate at or below ``y``."""
    import arviz as az

    ll = np.asarray(ll, float)
    lw, k = az.psislw(-ll, reff=1.0)  # last axis = samples; normalised log weights
    lw = np.asarray(lw)
    elpd = np.logaddexp.reduce(lw + ll, axis=1)
    pit = np.full(len(ll), np.nan)
    if y_rep is not None and y is not None:
        w = np.exp(lw - np.logaddexp.reduce(lw, axis=1, keepdims=True))
        pit = np.sum(w * (np.asarray(y_rep) <= np.asarray(y)[:, None]), axis=1)
    return elpd, np.asarray(k, float), pit


def loo_table(idata, evidence) -> pd.DataFrame:
    """One row per count row of the evidence that is a point or an interval (bounds excluded)."""
    cd = design(evidence, "count")
    rows = cd["rows"]
    if rows.empty or "log_likelihood" not in idata.groups() or "obs_count" not in idata.log_likelihood:
        return pd.DataFrame(columns=COLUMNS)
    # one-sided claims are left out: bounds, and intervals with an open end ("over X", "at least")
    closed = (cd["lo"] > -INF) & (cd["hi"] < INF)
    keep = np.flatnonzero((rows["mode"].to_numpy() != "bound") & closed)
    ll = _stacked(idata.log_likelihood, "obs_count")[keep]
    y_rep = None
    if "posterior_predictive" in idata.groups() and "obs_count" in idata.posterior_predictive:
        y_rep = _stacked(idata.posterior_predictive, "obs_count")[keep]
    elpd, k, pit = psis_loo(ll, y_rep, cd["lo"][keep])
    pit[rows["mode"].to_numpy()[keep] != "point"] = np.nan  # a range has no single figure to rank
    sub = rows.iloc[keep].reset_index(drop=True)
    out = pd.DataFrame({
        "obs_id": sub["obs_id"], "source_id": sub.get("source_id", ""), "origin": sub.get("origin", ""),
        "series": sub["series"], "class": [f"{CLASSES[c][0]}.{CLASSES[c][1]}" for c in cd["cls"][keep]],
        "year": sub["year"].astype(int), "year_end": sub["year_end"].astype(int),
        "figure": [_figure(r) for r in sub.itertuples()], "mode": sub["mode"],
        "elpd_loo": np.round(elpd, 3), "pareto_k": np.round(k, 3), "loo_pit": np.round(pit, 4)})
    out["pit_tail"] = np.round(2 * np.minimum(out["loo_pit"], 1 - out["loo_pit"]), 4)
    return out[COLUMNS]


def summary(table: pd.DataFrame) -> dict:
    """Totals for the fit's outputs: elpd, p(k > 0.7), PIT extremes."""
    pit = table["loo_pit"].dropna()
    return {"rows_in_loo": int(len(table)), "elpd_loo": round(float(table["elpd_loo"].sum()), 2),
            "pareto_k_max": round(float(table["pareto_k"].max()), 3) if len(table) else None,
            "pareto_k_above_0.7": int((table["pareto_k"] > PARETO_K_BAD).sum()),
            "pit_rows": int(len(pit)),
            "pit_outside_5_95": int(((pit < 0.05) | (pit > 0.95)).sum())}


def influential(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The n claims with the largest Pareto k (the fit would move most without them)."""
    return table.sort_values(["pareto_k", "elpd_loo"], ascending=[False, True]).head(n).reset_index(drop=True)


def worst_fitting(table: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The n claims with the lowest leave-one-out log predictive density."""
    return table.sort_values("elpd_loo").head(n).reset_index(drop=True)


def pit_histogram(table: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    pit = table["loo_pit"].dropna().to_numpy()
    counts, edges = np.histogram(pit, bins=bins, range=(0, 1))
    return pd.DataFrame({"lo": edges[:-1].round(2), "hi": edges[1:].round(2), "rows": counts,
                         "expected": round(len(pit) / bins, 2)})
