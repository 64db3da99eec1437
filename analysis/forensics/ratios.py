"""Internal ratios per GODT country-year, and where China (or any target) sits each year.

Ratios (``RATIOS``), each computed only where its inputs are present and its denominator is > 0:

- ``transplants_per_donor``: deceased-donor kidney + liver + heart + lung transplants per actual
  deceased donor, ``(dd_kidney_tx + dd_liver_tx + total_heart_tx + dd_lung_tx) / actual_dd``.
  Kidney and liver must be present; a missing heart or lung figure counts as 0 (many exports leave
  organs without a programme blank). Pancreas, kidney-pancreas, small bowel and domino livers are
  left out.
- ``organs_per_utilized_donor``: deceased-donor kidney + liver + heart + lung + pancreas +
  kidney-pancreas transplants per utilized deceased donor: China's official ratio against the
  distribution behind the organs-per-donor prior (analysis/forensics/donor_yield.py).
- ``kidney_to_liver``: ``total_kidney_tx / total_liver_tx`` (all donor types).
- ``dcd_share``: share of actual deceased donors that were DCD, ``actual_dcd / (actual_dbd +
  actual_dcd)``.

``ratio_percentiles`` gives, per ratio and year, the target's value, the spread over the other
countries (min, 5th, 50th, 95th percentile, max; ``numpy.percentile`` linear interpolation) and the
target's mid-rank percentile among them (``rank.percentile_of``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.forensics.rank import percentile_of


def _div(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den).where(den > 0)


def _per_donor(g: pd.DataFrame) -> pd.Series:
    num = g["dd_kidney_tx"] + g["dd_liver_tx"] + g["total_heart_tx"].fillna(0) + g["dd_lung_tx"].fillna(0)
    return _div(num, g["actual_dd"])


def _per_utilized_donor(g: pd.DataFrame) -> pd.Series:
    """Organs transplanted per utilized deceased donor (donor_yield.ORGAN_COLUMNS over
    utilized_dd): the quantity behind the model's organs-per-donor prior (`tgap donor-yield`)."""
    from analysis.forensics.donor_yield import ORGAN_COLUMNS

    if "utilized_dd" not in g:
        return pd.Series(np.nan, index=g.index)
    organs = g.reindex(columns=ORGAN_COLUMNS).fillna(0).sum(axis=1)
    num = organs.where(g["dd_kidney_tx"].notna() & g["dd_liver_tx"].notna())
    return _div(num, g["utilized_dd"])


RATIOS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "transplants_per_donor": _per_donor,
    "organs_per_utilized_donor": _per_utilized_donor,
    "kidney_to_liver": lambda g: _div(g["total_kidney_tx"], g["total_liver_tx"]),
    "dcd_share": lambda g: _div(g["actual_dcd"], g["actual_dbd"] + g["actual_dcd"]),
}


def godt_ratios(godt: pd.DataFrame) -> pd.DataFrame:
    """Long table country, year, ratio, value (finite values only)."""
    frames = []
    for name, fn in RATIOS.items():
        v = fn(godt)
        frames.append(pd.DataFrame({"country": godt["country"], "year": godt["year"],
                                    "ratio": name, "value": v.astype(float)}))
    out = pd.concat(frames, ignore_index=True)
    out = out[np.isfinite(out["value"])]
    return out.sort_values(["ratio", "year", "country"], kind="mergesort").reset_index(drop=True)


def ratio_percentiles(ratios: pd.DataFrame, target: str = "China") -> pd.DataFrame:
    """Per ratio and year with a target value: the target against the other countries.

    Columns: ratio, year, target_value, n_countries, min, p05, median, p95, max, percentile.
    """
    rows = []
    for (name, year), g in ratios.groupby(["ratio", "year"], sort=True):
        t = g.loc[g["country"] == target, "value"]
        if t.empty:
            continue
        others = g.loc[g["country"] != target, "value"].to_numpy(dtype=float)
        tv = float(t.iloc[0])
        q = np.percentile(others, [0, 5, 50, 95, 100]) if others.size else [np.nan] * 5
        rows.append({"ratio": name, "year": int(year), "target_value": tv,
                     "n_countries": int(others.size), "min": float(q[0]), "p05": float(q[1]),
                     "median": float(q[2]), "p95": float(q[3]), "max": float(q[4]),
                     "percentile": percentile_of(others, tv)})
    cols = ["ratio", "year", "target_value", "n_countries", "min", "p05", "median", "p95", "max",
            "percentile"]
    return pd.DataFrame(rows, columns=cols)


def observation_organs_per_donor(obs: pd.DataFrame) -> pd.DataFrame:
    """Organs per deceased donor stated by one source for one period, from the observations table.

    Pairs, within the same source_id, year and year_end, a row with unit ``organs`` and a row with
    unit ``donors`` (both kind ``reported`` or both ``cumulative``, donor_type ``deceased``, organ
    ``all``); partial-year and projected rows are left out (``consistency.EXCLUDED_FLAGS``). A pair
    is skipped when either side has several different values. Columns: source_id, source_kind,
    kind, year, year_end, donors, organs, organs_per_donor, obs_ids.
    """
    from analysis.forensics.consistency import normalize_observations

    cols = ["source_id", "source_kind", "kind", "year", "year_end", "donors", "organs",
            "organs_per_donor", "obs_ids"]
    if obs is None or len(obs) == 0:
        return pd.DataFrame(columns=cols)
    o = normalize_observations(obs)
    o = o[o["kind"].isin(["reported", "cumulative"]) & (o["donor_type"] == "deceased")
          & (o["organ"] == "all") & o["unit"].isin(["organs", "donors"])]
    rows = []
    for (src, kind, y0, y1), g in o.groupby(["source_id", "kind", "year", "year_end"], sort=True):
        donors, organs = g[g["unit"] == "donors"], g[g["unit"] == "organs"]
        if donors.empty or organs.empty or donors["value"].nunique() > 1 or organs["value"].nunique() > 1:
            continue
        d, n = float(donors["value"].iloc[0]), float(organs["value"].iloc[0])
        if d <= 0:
            continue
        rows.append({"source_id": src, "source_kind": g["source_kind"].iloc[0], "kind": kind,
                     "year": int(y0), "year_end": int(y1), "donors": d, "organs": n,
                     "organs_per_donor": n / d,
                     "obs_ids": ";".join(sorted(pd.concat([donors, organs])["obs_id"]))})
    return pd.DataFrame(rows, columns=cols)
