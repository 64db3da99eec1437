"""Calibration against other worlds (issue 14): how the baseline's gap intervals behave when the
data come from a world that is not the model.

``summaries`` turns one fit (posterior gap draws by year) and the world's truth into rows: each
year's signed gap, and each period's signed sum and organs not explained (sum of max(G_t, 0)),
with 5/25/75/95% posterior quantiles and P(> 0). ``metrics`` aggregates the rows of many
datasets: interval coverage, the rate of confident sign errors and the power to detect a
positive period gap. Pure functions (no sampling); benchmarks/calibration_worlds.py fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = {"q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}
CONFIDENT = 0.95  # P(gap > 0) above this (or below 1 - this) is a confident sign
POWER_EDGES = [-np.inf, 0.0, 10_000, 50_000, 100_000, 250_000, 500_000, np.inf]


def _row(kind: str, label: str, quantity: str, truth: float, draws: np.ndarray, p_positive: bool) -> dict:
    out = {"kind": kind, "label": label, "quantity": quantity, "truth": float(truth),
           "median": float(np.median(draws))}
    out |= {k: float(np.quantile(draws, q)) for k, q in QUANTILES.items()}
    out["p_positive"] = float((draws > 0).mean()) if p_positive else np.nan
    return out


def summaries(gap: np.ndarray, truth_gap: np.ndarray, years: np.ndarray,
              periods: list[tuple[int, int]]) -> pd.DataFrame:
    """gap: years x draws posterior draws; truth_gap: the true yearly gap (same years)."""
    gap, truth_gap, years = np.asarray(gap, float), np.asarray(truth_gap, float), np.asarray(years)
    if gap.shape[0] != len(years) or len(truth_gap) != len(years):
        raise ValueError(f"gap draws {gap.shape} / truth {truth_gap.shape} do not match {len(years)} years")
    rows = [_row("year", str(int(y)), "gap", truth_gap[j], gap[j], True) for j, y in enumerate(years)]
    for a, b in periods:
        m = (years >= a) & (years <= b)
        label = f"{a}-{b}"
        rows.append(_row("period", label, "gap", truth_gap[m].sum(), gap[m].sum(axis=0), True))
        rows.append(_row("period", label, "unexplained", np.maximum(truth_gap[m], 0).sum(),
                         np.maximum(gap[m], 0).sum(axis=0), False))
    return pd.DataFrame(rows)


def _coverage(t: pd.DataFrame, lo: str, hi: str) -> float:
    return float(((t["truth"] >= t[lo]) & (t["truth"] <= t[hi])).mean())


def confident_sign_error(t: pd.DataFrame) -> pd.Series:
    """P(gap > 0) > 0.95 when the true gap <= 0, or < 0.05 when it is > 0."""
    return (((t["p_positive"] > CONFIDENT) & (t["truth"] <= 0))
            | ((t["p_positive"] < 1 - CONFIDENT) & (t["truth"] > 0)))


def power(t: pd.DataFrame, edges=POWER_EDGES) -> dict:
    """Share of datasets with P(period gap > 0) > 0.95, by bins of the true period gap, and the
    smallest lower edge from which every bin with datasets detects in >= 80% of them."""
    # bins closed on the right: (-inf, 0] holds the datasets without a gap (a "detection" there is
    # a false positive), the others positive true gaps
    bins = pd.cut(t["truth"], edges, right=True)
    detected = t["p_positive"] > CONFIDENT
    table = []
    for interval, g in detected.groupby(bins, observed=False):
        table.append({"true_gap_from": float(interval.left), "true_gap_to": float(interval.right),
                      "datasets": int(g.size), "detected": (float(g.mean()) if g.size else None)})
    smallest = None
    for i in range(len(table)):
        if table[i]["true_gap_to"] <= 0:
            continue  # no gap to detect
        rest = [b for b in table[i:] if b["datasets"]]
        if rest and all(b["detected"] >= 0.8 for b in rest) and table[i]["datasets"]:
            smallest = table[i]["true_gap_from"]
            break
    return {"by_true_gap": table, "smallest_bin_detected_80": smallest,
            "detected_overall": float(detected.mean()) if len(t) else None}


def metrics(table: pd.DataFrame) -> dict:
    """Aggregate the ``summaries`` rows of many datasets (a ``dataset`` column optional)."""
    out = {}
    for (kind, quantity), t in table.groupby(["kind", "quantity"], sort=False):
        entry = {"rows": int(len(t)), "coverage_90": _coverage(t, "q05", "q95"),
                 "coverage_50": _coverage(t, "q25", "q75")}
        if quantity == "gap":
            err = confident_sign_error(t)
            entry |= {"confident_sign_errors": int(err.sum()), "confident_sign_error_rate": float(err.mean()),
                      "true_nonpositive": int((t["truth"] <= 0).sum()),
                      "false_positive_rate": (float((t.loc[t["truth"] <= 0, "p_positive"] > CONFIDENT).mean())
                                              if (t["truth"] <= 0).any() else None)}
        if kind == "period":
            entry["by_period"] = {
                label: {"coverage_90": _coverage(g, "q05", "q95"), "coverage_50": _coverage(g, "q25", "q75"),
                        "truth_median": float(g["truth"].median()), "posterior_median_median": float(g["median"].median()),
                        "datasets": int(len(g)), "truth_positive": int((g["truth"] > 0).sum()),
                        **({"p_positive_median": float(g["p_positive"].median()),
                            "confident_positive": int((g["p_positive"] > CONFIDENT).sum()),
                            "confident_negative": int((g["p_positive"] < 1 - CONFIDENT).sum())}
                           if quantity == "gap" else {})}
                for label, g in t.groupby("label", sort=False)}
            if quantity == "gap":
                entry["power"] = power(t)
        out[f"{kind}_{quantity}"] = entry
    return out
