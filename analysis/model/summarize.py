"""Posterior summaries of the gap: by year, by period, and the diagnostics gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

QUANTILES = {"q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}


def _draws(idata, var: str) -> xr.DataArray:
    return idata.posterior[var]


def periods_resolved(periods: list, years: np.ndarray) -> list[tuple[int, int]]:
    end = int(years.max())
    out = []
    for a, b in periods:
        a = end if a == "latest" else int(a)
        b = end if b == "latest" else int(b)
        out.append((a, b))
    return out


def period_draws(idata, periods: list[tuple[int, int]], var: str = "gap") -> xr.DataArray:
    """Cumulative sums of ``var`` over each period, per draw (dims chain, draw, period)."""
    da = _draws(idata, var)
    sums = [da.sel(year=slice(a, b)).sum("year") for a, b in periods]
    labels = [f"{a}-{b}" for a, b in periods]
    return xr.concat(sums, dim=pd.Index(labels, name="period"))


def _summ(da: xr.DataArray, dim: str) -> pd.DataFrame:
    flat = da.stack(sample=("chain", "draw")).transpose(dim, "sample").values
    out = pd.DataFrame({dim: da[dim].values})
    out["gap_mean"] = flat.mean(axis=1)
    out["gap_median"] = np.median(flat, axis=1)
    for name, q in QUANTILES.items():
        out[f"gap_{name}"] = np.quantile(flat, q, axis=1)
    out["p_gap_positive"] = (flat > 0).mean(axis=1)
    return out


def gap_by_year(idata) -> pd.DataFrame:
    post = idata.posterior
    out = _summ(post["gap"], "year")
    for var, col in [("volume", "volume"), ("supply", "supply"),
                     ("prisoner_organs_declared", "prisoner_organs"), ("donor_organs", "donor_organs"),
                     ("living", "living")]:
        da = post[var].stack(sample=("chain", "draw")).transpose("year", "sample").values
        out[f"{col}_mean"] = da.mean(axis=1)
        if col in ("volume", "supply"):
            out[f"{col}_q05"] = np.quantile(da, 0.05, axis=1)
            out[f"{col}_q95"] = np.quantile(da, 0.95, axis=1)
    first = ["year", "volume_mean", "volume_q05", "volume_q95", "supply_mean", "supply_q05",
             "supply_q95", "prisoner_organs_mean", "donor_organs_mean", "living_mean"]
    return out[first + [c for c in out.columns if c not in first]]


def flat_draws(da: xr.DataArray, dim: str) -> np.ndarray:
    """(dim, sample) array of a posterior variable, chains and draws stacked."""
    return da.stack(sample=("chain", "draw")).transpose(dim, "sample").values


def gap_by_period(idata, periods: list[tuple[int, int]]) -> pd.DataFrame:
    """Per period: the signed gap summed over its years (``gap_*``, ``p_gap_positive``: spare
    capacity in one year nets against a shortfall in another), and, per draw, the organs not
    explained, sum of max(G_t, 0) (``unexplained_*``; organs do not carry over between years), the
    declared capacity left unused, sum of max(-G_t, 0) (``unused_capacity_*``), and the probability
    that at least one year of the period has G_t > 0 (``p_any_year_positive``)."""
    out = _summ(period_draws(idata, periods), "period")
    gap = idata.posterior["gap"]
    labels = [f"{a}-{b}" for a, b in periods]
    for name, da in (("unexplained", gap.clip(min=0)), ("unused_capacity", (-gap).clip(min=0))):
        flat = np.stack([flat_draws(da.sel(year=slice(a, b)).sum("year").expand_dims(p=[0]), "p")[0]
                         for a, b in periods])
        out[f"{name}_median"] = np.median(flat, axis=1)
        for q_name, q in QUANTILES.items():
            out[f"{name}_{q_name}"] = np.quantile(flat, q, axis=1)
    out["p_any_year_positive"] = [float((flat_draws(gap.sel(year=slice(a, b)), "year") > 0).any(axis=0).mean())
                                  for a, b in periods]
    out["period"] = labels
    return out


def diagnostics(idata, periods: list[tuple[int, int]], limits: dict) -> dict:
    """R-hat, bulk/tail ESS for every gap quantity, divergences, and pass/fail per limit."""
    import arviz as az

    year = idata.posterior["gap"]
    per = period_draws(idata, periods)
    ds = xr.Dataset({"gap": year, "gap_period": per})
    rhat = az.rhat(ds)
    ess_bulk = az.ess(ds, method="bulk")
    ess_tail = az.ess(ds, method="tail")
    max_rhat = float(max(rhat["gap"].max(), rhat["gap_period"].max()))
    min_bulk = float(min(ess_bulk["gap"].min(), ess_bulk["gap_period"].min()))
    min_tail = float(min(ess_tail["gap"].min(), ess_tail["gap_period"].min()))
    div = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else 0
    checks = {
        "rhat": max_rhat <= limits["max_rhat"],
        "ess_bulk": min_bulk >= limits["min_ess_bulk"],
        "ess_tail": min_tail >= limits["min_ess_tail"],
        "divergences": div <= limits["max_divergences"],
    }
    return {
        "max_rhat": round(max_rhat, 4), "min_ess_bulk": round(min_bulk, 1),
        "min_ess_tail": round(min_tail, 1), "divergences": div,
        "limits": limits, "checks": checks, "passed": all(checks.values()),
    }


def write_csv(frame: pd.DataFrame, path) -> None:
    """Stable, byte-reproducible CSV: counts to 0.1, probabilities to 4 decimals."""
    from analysis.io import atomic_write_text, csv_text

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].round(4 if col.startswith("p_") else 1)
    atomic_write_text(path, csv_text(out))
