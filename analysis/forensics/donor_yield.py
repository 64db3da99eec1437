"""Organs transplanted per utilized deceased donor, every GODT country-year: the cross-country
reference for the model's organs-per-donor prior (``supply.organs_per_donor``).

``organs = dd_kidney_tx + dd_liver_tx + total_heart_tx + dd_lung_tx + pancreas_tx +
kidney_pancreas_tx`` (missing organ columns count as 0; kidney and liver must be present), divided
by ``utilized_dd``, for country-years with at least ``min_donors`` utilized donors (small
programmes give noisy ratios). ``summary`` gives the distribution over the other countries and a
LogNormal with the same median and 5-95% spread, the form in which baseline.toml records it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ORGAN_COLUMNS = ["dd_kidney_tx", "dd_liver_tx", "total_heart_tx", "dd_lung_tx", "pancreas_tx",
                 "kidney_pancreas_tx"]
Z95 = 1.6448536269514722  # standard-normal 95th percentile


def organs_per_utilized_donor(godt: pd.DataFrame, min_donors: float = 50) -> pd.DataFrame:
    """Columns country, year, utilized_dd, organs, ratio; one row per usable country-year."""
    g = godt[godt["dd_kidney_tx"].notna() & godt["dd_liver_tx"].notna()
             & (godt["utilized_dd"] >= min_donors)].copy()
    g["organs"] = g[ORGAN_COLUMNS].fillna(0).sum(axis=1)
    g["ratio"] = g["organs"] / g["utilized_dd"]
    g = g[np.isfinite(g["ratio"]) & (g["ratio"] > 0)]
    cols = ["country", "year", "utilized_dd", "organs", "ratio"]
    return g[cols].sort_values(["country", "year"], kind="mergesort").reset_index(drop=True)


def summary(ratios: pd.DataFrame, exclude: str = "China") -> dict:
    """Median, 5th/95th percentiles and extremes over the country-years of every country but
    ``exclude``; the LogNormal (mu, sigma) with that median and 5-95% width; ``exclude``'s own
    ratios by year."""
    others = ratios.loc[ratios["country"] != exclude, "ratio"].to_numpy(float)
    p05, p50, p95 = np.percentile(others, [5, 50, 95])
    target = ratios[ratios["country"] == exclude]
    return {
        "n_country_years": int(others.size),
        "n_countries": int(ratios.loc[ratios["country"] != exclude, "country"].nunique()),
        "median": float(p50), "p05": float(p05), "p95": float(p95),
        "min": float(others.min()), "max": float(others.max()),
        "lognormal_mu": float(np.log(p50)),
        "lognormal_sigma": float((np.log(p95) - np.log(p05)) / (2 * Z95)),
        exclude: {int(y): round(float(r), 3) for y, r in zip(target["year"], target["ratio"])},
    }
