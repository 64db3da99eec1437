"""Consistency checks on the tidy observations table (and on GODT rows).

- ``source_disagreements``: two sources reporting the same quantity (same unit, kind, organ,
  donor_type, denominator, year and year_end) with different values: difference and relative
  difference ``|b - a| / max(|a|, |b|)``.
- ``repeated_values``: the same value in consecutive years within one series (GODT: one country and
  measure). Zeros are ignored by default.
- ``sum_mismatches``: parts that do not add up to the stated total within one source-year: organs
  (kidney + liver + heart + lung + other) against ``organ == all``, and deceased + living against
  ``donor_type == all``.

Blank ``organ`` / ``donor_type`` mean ``all``, blank ``qualifier`` means ``exact``, blank
``year_end`` means ``year`` (as in docs/data.md). Only rows with a ``value`` take part, and rows
flagged ``partial_year`` or ``projection`` (``EXCLUDED_FLAGS``: not a figure for the whole period)
are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from analysis.forensics.rank import consecutive_runs

QUANTITY_KEY = ["unit", "kind", "organ", "donor_type", "denominator", "year", "year_end"]
SERIES_KEY = ["series", "unit", "kind", "organ", "donor_type", "denominator"]
ORGAN_PARTS = ("kidney", "liver", "heart", "lung")
APPROX_REL_TOL = 0.05
EXCLUDED_FLAGS = ("partial_year", "projection")


def flag_sets(flags: pd.Series) -> pd.Series:
    """The ``;``-separated flag slugs of each row as a set."""
    return flags.fillna("").astype(str).str.split(";").map(lambda f: {x.strip() for x in f} - {""})


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def normalize_observations(obs: pd.DataFrame,
                           excluded_flags: tuple[str, ...] = EXCLUDED_FLAGS) -> pd.DataFrame:
    """Defaults filled in (see module doc), numbers typed; rows without a value or with one of
    ``excluded_flags`` dropped."""
    o = obs.copy()
    for col in ["organ", "donor_type", "qualifier", "denominator", "series", "source_id", "obs_id",
                "source_kind", "flag", "family", "unit", "kind"]:
        if col not in o:
            o[col] = ""
        o[col] = o[col].where(~_blank(o[col]), "").astype(str).str.strip()
    o.loc[o["organ"] == "", "organ"] = "all"
    o.loc[o["donor_type"] == "", "donor_type"] = "all"
    o.loc[o["qualifier"] == "", "qualifier"] = "exact"
    o["value"] = pd.to_numeric(o["value"], errors="coerce")
    o["year"] = pd.to_numeric(o["year"], errors="coerce")
    end = pd.to_numeric(o["year_end"], errors="coerce") if "year_end" in o else o["year"]
    o["year_end"] = end.fillna(o["year"])
    excluded = flag_sets(o["flag"]).map(lambda f: bool(f & set(excluded_flags)))
    o = o[o["value"].notna() & o["year"].notna() & ~excluded].copy()
    o["year"] = o["year"].astype("int64")
    o["year_end"] = o["year_end"].astype("int64")
    return o.reset_index(drop=True)


def source_disagreements(obs: pd.DataFrame) -> pd.DataFrame:
    """Pairs of rows from different sources for the same quantity whose values differ.

    Within a pair, ``a`` is the row whose (source_id, obs_id) sorts first; difference = b - a.
    """
    o = normalize_observations(obs)
    rows = []
    for key, g in o.groupby(QUANTITY_KEY, sort=True):
        if g["source_id"].nunique() < 2:
            continue
        g = g.sort_values(["source_id", "obs_id"])
        for (_, a), (_, b) in combinations(g.iterrows(), 2):
            if a["source_id"] == b["source_id"] or a["value"] == b["value"]:
                continue
            diff = float(b["value"] - a["value"])
            rows.append({**dict(zip(QUANTITY_KEY, key, strict=True)),
                         "obs_id_a": a["obs_id"], "source_a": a["source_id"],
                         "source_kind_a": a["source_kind"], "series_a": a["series"],
                         "qualifier_a": a["qualifier"], "value_a": float(a["value"]),
                         "obs_id_b": b["obs_id"], "source_b": b["source_id"],
                         "source_kind_b": b["source_kind"], "series_b": b["series"],
                         "qualifier_b": b["qualifier"], "value_b": float(b["value"]),
                         "difference": diff,
                         "relative_difference": abs(diff) / max(abs(a["value"]), abs(b["value"]))})
    cols = [*QUANTITY_KEY, "obs_id_a", "source_a", "source_kind_a", "series_a", "qualifier_a",
            "value_a", "obs_id_b", "source_b", "source_kind_b", "series_b", "qualifier_b",
            "value_b", "difference", "relative_difference"]
    return pd.DataFrame(rows, columns=cols)


def repeated_values(frame: pd.DataFrame, key: Sequence[str], min_years: int = 2,
                    ignore_zero: bool = True, id_col: str | None = None) -> pd.DataFrame:
    """Runs of at least ``min_years`` consecutive years with the same ``value`` within each key.

    ``frame`` needs ``key`` columns, ``year`` and ``value``. Columns of the result: the key, value,
    first_year, last_year, n_years and, when ``id_col`` is given, ``ids`` (``;``-joined).
    """
    key = list(key)
    f = frame[frame["value"].notna()]
    if ignore_zero:
        f = f[f["value"] != 0]
    rows = []
    for k, g in f.groupby([*key, "value"], sort=True, dropna=False):
        for first, last in consecutive_runs(g["year"]):
            if last - first + 1 < min_years:
                continue
            row = {**dict(zip([*key, "value"], k, strict=True)), "first_year": int(first),
                   "last_year": int(last), "n_years": int(last - first + 1)}
            if id_col is not None:
                inrun = g[(g["year"] >= first) & (g["year"] <= last)]
                row["ids"] = ";".join(sorted(inrun[id_col].astype(str)))
            rows.append(row)
    cols = [*key, "value", "first_year", "last_year", "n_years"] + (["ids"] if id_col else [])
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values([*key, "first_year"], kind="mergesort").reset_index(drop=True)


def repeated_observation_values(obs: pd.DataFrame, min_years: int = 2,
                                ignore_zero: bool = True) -> pd.DataFrame:
    """``repeated_values`` over single-year observations, one series = ``SERIES_KEY``."""
    o = normalize_observations(obs)
    o = o[o["year_end"] == o["year"]]
    return repeated_values(o, SERIES_KEY, min_years, ignore_zero, id_col="obs_id")


def repeated_godt_values(godt: pd.DataFrame, measures: Sequence[str], countries: Sequence[str] | None = None,
                         min_years: int = 2, ignore_zero: bool = True) -> pd.DataFrame:
    """``repeated_values`` over GODT rows, one series = (country, measure)."""
    g = godt if countries is None else godt[godt["country"].isin(list(countries))]
    long = g.melt(id_vars=["country", "year"], value_vars=list(measures), var_name="measure")
    return repeated_values(long, ["country", "measure"], min_years, ignore_zero)


def _one_value(g: pd.DataFrame) -> float | None:
    vals = g["value"].unique()
    return float(vals[0]) if len(vals) == 1 else None


def _sum_check(g: pd.DataFrame, dim: str) -> dict | None:
    totals = g[g[dim] == "all"]
    parts = g[g[dim] != "all"]
    if totals.empty or parts.empty:
        return None
    main = False
    if dim == "organ":
        names = set(parts["organ"])
        if "kidney_liver" in names and names & {"kidney", "liver"}:
            parts = parts[parts["organ"] != "kidney_liver"]
        names = set(parts["organ"])
        expanded = (names - {"kidney_liver"}) | ({"kidney", "liver"} if "kidney_liver" in names else set())
        main = set(ORGAN_PARTS) <= expanded
        complete = main and "other" in names
    else:
        complete = {"deceased", "living"} <= set(parts["donor_type"])
    total = _one_value(totals)
    part_values = {name: _one_value(p) for name, p in parts.groupby(dim, sort=True)}
    used = pd.concat([totals, parts])
    row = {"total": np.nan, "parts_sum": np.nan, "parts": "", "complete": complete,
           "approximate": bool((used["qualifier"] != "exact").any()), "difference": np.nan,
           "relative_difference": np.nan, "mismatch": False, "status": "ok",
           "obs_ids": ";".join(sorted(used["obs_id"]))}
    if total is None or any(v is None for v in part_values.values()):
        row["status"] = "ambiguous: several values for one part or total"
        return row
    parts_sum = float(sum(part_values.values()))
    diff = parts_sum - total
    rel = abs(diff) / total if total else float("inf") if diff else 0.0
    tol_exceeded = rel > APPROX_REL_TOL if row["approximate"] else abs(diff) > 0.5
    if complete and tol_exceeded:
        status = "parts differ from total"
    elif diff > 0 and tol_exceeded:
        status = "parts exceed total"
    elif main and tol_exceeded:
        status = "main organs short of total (no 'other' row)"
    else:
        status = "ok"
    row.update(total=total, parts_sum=parts_sum,
               parts=";".join(f"{k}={v:g}" for k, v in part_values.items()), difference=diff,
               relative_difference=rel, mismatch=status.startswith("parts"), status=status)
    return row


def sum_mismatches(obs: pd.DataFrame) -> pd.DataFrame:
    """Every source-year with a total and at least one part, per dimension (organ, donor_type).

    Complete parts (kidney, liver, heart, lung and other present; or deceased and living) must add
    up to the total within 0.5; incomplete parts must not exceed it. When any row involved is not
    ``exact`` the tolerance is 5 % of the total. ``mismatch`` marks those failures. The four main
    organs without an ``other`` row falling short of the total (pancreas, intestine, ... are not
    recorded) get status ``main organs short of total`` but no ``mismatch``. Share rows are skipped.
    """
    o = normalize_observations(obs)
    o = o[o["unit"] != "share"]
    rows = []
    for dim, other in (("organ", "donor_type"), ("donor_type", "organ")):
        key = ["source_id", "unit", "kind", other, "year", "year_end"]
        for k, g in o.groupby(key, sort=True):
            row = _sum_check(g, dim)
            if row is not None:
                rows.append({"check": f"{dim}_sum", **dict(zip(key, k, strict=True)), **row})
    cols = ["check", "source_id", "unit", "kind", "donor_type", "organ", "year", "year_end", "total",
            "parts_sum", "parts", "complete", "approximate", "difference", "relative_difference",
            "mismatch", "status", "obs_ids"]
    return pd.DataFrame(rows, columns=cols)
