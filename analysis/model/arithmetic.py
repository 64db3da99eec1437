"""Tables a reader can check against the published arithmetic of the dispute, per year with
intervals (docs/model.md, "Outputs"):

- ``capacity_gap_by_year``: organs the declared sources could not have supplied even at their
  maximum, max(0, V - (E * c_max * [prisoners declared] + D * y_d + L)), per draw;
- ``executions_required``: executions needed to supply the volume not covered by voluntary and
  living donors, (V - D * y_d - L) / c, at the ceiling c_max and at the posterior yield c_t, beside
  the estimated executions E_t and the published execution figures that entered the model;
- ``composition_test``: every official share statement against the counts: the share the model
  gives that source, the largest share the executions could supply at the ceiling, the organs per
  executed person the statement implies (stated share x denominator / executions), P(implied >
  ceiling).

All take a fitted ``idata`` and the evidence; nothing here feeds back into the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.model.evidence import Evidence
from analysis.model.summarize import flat_draws

QS = {"median": 0.5, "q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}
# evidence quantity -> posterior variable (share numerators and denominators)
POSTERIOR_OF = {"volume": "volume", "deceased_volume": "deceased_volume", "living": "living",
                "executions": "executions", "donor_organs_reported": "donor_organs",
                "prisoner_organs": "prisoner_organs", "donors_reported": "donors"}


def _samples(idata, var: str) -> np.ndarray:
    """(year, sample) array of a yearly posterior variable."""
    return flat_draws(idata.posterior[var], "year")


def _quantiles(prefix: str, x: np.ndarray, qs=QS) -> dict[str, np.ndarray]:
    return {f"{prefix}_{k}": np.quantile(x, q, axis=-1) for k, q in qs.items()}


def capacity_gap_by_year(idata, c_max: float, prisoner_mask: np.ndarray) -> pd.DataFrame:
    v, e, d, liv = (_samples(idata, n) for n in ("volume", "executions", "donor_organs", "living"))
    max_supply = e * c_max * np.asarray(prisoner_mask, float)[:, None] + d + liv
    gap = np.maximum(v - max_supply, 0.0)
    out = pd.DataFrame({"year": idata.posterior["year"].values.astype(int)})
    out = out.assign(**_quantiles("capacity_gap", gap), **_quantiles("max_declared_supply", max_supply,
                                                                       {"median": 0.5}))
    out["p_capacity_gap_positive"] = (v > max_supply).mean(axis=1)
    return out


PUBLISHED_COLUMNS = ["year", "published_min", "published_max", "recorded_minimum"]


def published_executions(evidence: Evidence) -> pd.DataFrame:
    """Single-year execution figures that entered the model, per year: the lowest and highest
    estimate or report (ends of ranges included), and the highest recorded minimum (a lower
    bound such as Amnesty's count of executions it could confirm)."""
    r = evidence.rows
    if r.empty:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    r = r[(r["quantity"] == "executions") & (r["year"] == r["year_end"])]
    vals = []
    for row in r.itertuples():
        kind = "minimum" if row.kind == "lower_bound" else "estimate"
        if pd.notna(row.value):
            vals.append((row.year, kind, float(row.value)))
        else:  # log-scale ends of a range (open ends are +-1e3)
            vals += [(row.year, kind, float(np.exp(b))) for b in (row.lo, row.hi) if abs(b) < 50]
    if not vals:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    f = pd.DataFrame(vals, columns=["year", "kind", "v"])
    est = f[f["kind"] == "estimate"].groupby("year")["v"]
    out = pd.DataFrame({"published_min": est.min(), "published_max": est.max()})
    out = out.join(f[f["kind"] == "minimum"].groupby("year")["v"].max().rename("recorded_minimum"), how="outer")
    return out.rename_axis("year").reset_index()[PUBLISHED_COLUMNS]


def executions_required(idata, evidence: Evidence, c_max: float, prisoner_mask: np.ndarray) -> pd.DataFrame:
    v, e, d, liv, c_t = (_samples(idata, n) for n in
                         ("volume", "executions", "donor_organs", "living", "organs_per_executed_t"))
    need = np.maximum(v - d - liv, 0.0)
    at_ceiling, at_yield = need / c_max, need / c_t
    out = pd.DataFrame({"year": idata.posterior["year"].values.astype(int),
                        "prisoners_declared": np.asarray(prisoner_mask, float) > 0})
    out = out.assign(**_quantiles("executions", e), **_quantiles("required_at_ceiling", at_ceiling),
                     **_quantiles("required_at_yield", at_yield),
                     **_quantiles("organs_per_executed", c_t, {"median": 0.5, "q05": 0.05, "q95": 0.95}))
    out["p_required_at_ceiling_exceeds_estimated"] = (at_ceiling > e).mean(axis=1)
    out["p_required_at_yield_exceeds_estimated"] = (at_yield > e).mean(axis=1)
    return out.merge(published_executions(evidence), on="year", how="left")


def _stated(row) -> float:
    if pd.notna(row.value):
        return float(row.value)
    ends = [1.0 / (1.0 + np.exp(-b)) for b in (row.lo, row.hi) if abs(b) < 50]
    return float(np.mean(ends)) if ends else np.nan


def share_statements(evidence: Evidence) -> pd.DataFrame:
    """The share statements of a fit: tested ones and, with role "evidence", the likelihood's."""
    parts = [evidence.tested.assign(role="tested")]
    if not evidence.rows.empty:
        parts.append(evidence.rows[evidence.rows["likelihood"] == "share"].assign(role="evidence"))
    parts = [p for p in parts if p is not None and not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def composition_test(idata, evidence: Evidence, c_max: float) -> pd.DataFrame:
    rows = share_statements(evidence)
    cols = ["obs_id", "series", "source_id", "year", "year_end", "role", "qualifier", "stated_share",
            "numerator", "denominator", "model_share_median", "model_share_q05", "model_share_q95",
            "max_possible_share_median", "implied_organs_per_executed_median",
            "implied_organs_per_executed_q05", "implied_organs_per_executed_q95",
            "p_implied_exceeds_ceiling"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    years = idata.posterior["year"].values
    cache: dict[str, np.ndarray] = {}

    def span_sum(var, a, b):
        if var not in cache:
            cache[var] = _samples(idata, var)
        sel = (years >= a) & (years <= b)
        return cache[var][sel].sum(axis=0)

    out = []
    for r in rows.itertuples():
        num_v, den_v = POSTERIOR_OF[r.quantity], POSTERIOR_OF[r.denominator]
        den = span_sum(den_v, r.year, r.year_end)
        model_share = span_sum(num_v, r.year, r.year_end) / den
        stated = _stated(r)
        rec = dict(obs_id=r.obs_id, series=r.series, source_id=r.source_id, year=r.year,
                   year_end=r.year_end, role=r.role, qualifier=r.qualifier, stated_share=stated,
                   numerator=r.quantity,
                   denominator=r.denominator, **{k: float(v) for k, v in _quantiles(
                       "model_share", model_share, {"median": 0.5, "q05": 0.05, "q95": 0.95}).items()})
        if r.quantity == "prisoner_organs":
            ex = span_sum("executions", r.year, r.year_end)
            implied = stated * den / ex
            rec["max_possible_share_median"] = float(np.median(np.minimum(ex * c_max / den, 1.0)))
            rec |= {k: float(v) for k, v in _quantiles("implied_organs_per_executed", implied,
                                                         {"median": 0.5, "q05": 0.05, "q95": 0.95}).items()}
            rec["p_implied_exceeds_ceiling"] = float((implied > c_max).mean())
        out.append(rec)
    return pd.DataFrame(out).reindex(columns=cols)
