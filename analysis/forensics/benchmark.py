"""The same curve fits on every GODT country, and where a target series ranks among them.

Country windows (``country_windows``): for each country, the years with ``measure`` > 0 (missing
counts as absent). By default a country qualifies when it has a run of at least ``length``
consecutive such years, and its window is the *latest* ``length`` years of its latest qualifying run,
so every country is fitted on exactly as many points as the target. With ``years=`` (a target with
gaps) either every one of those calendar years must be present and > 0 (``align="calendar"``) or
the same pattern of years is taken from the end of the country's latest long-enough run
(``align="pattern"``).

Ranking (``rank_target``): the target's 1 - R² against the countries' 1 - R² for the same model and
form. ``percentile`` is the mid-rank percentile (``rank.percentile_of``): 0 means every country's
fit is further from perfect than the target's. ``rank`` is 1 + the number of countries whose
1 - R² is strictly smaller (1 = closest to perfect). ``orders_of_magnitude`` is
log10(median country 1 - R² / target 1 - R²).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.forensics.fits import FORMS, MODELS, Fit, fit_series
from analysis.forensics.rank import consecutive_runs, percentile_of


def longest_run(years: Sequence[int]) -> tuple[int, int] | None:
    """The longest run of consecutive years (the latest one among equally long runs)."""
    runs = consecutive_runs(years)
    if not runs:
        return None
    return max(runs, key=lambda r: (r[1] - r[0], r[1]))


def country_windows(godt: pd.DataFrame, length: int | None = None, measure: str = "actual_dd",
                    years: Sequence[int] | None = None, exclude: Sequence[str] = ("China",),
                    min_run: int | None = None, align: str = "calendar") -> dict[str, pd.Series]:
    """country -> Series(value, index=year) for every country with a qualifying window.

    Give ``length``: the latest ``length`` consecutive years with measure > 0, taken from the latest
    run of at least ``max(length, min_run)`` such years. Or give ``years`` with ``align``:
    ``"calendar"`` -- exactly these calendar years, each > 0; ``"pattern"`` -- the same pattern of
    years (offsets from the first year) placed at the end of the latest run of consecutive positive
    years at least as long as the span of ``years`` (so the fit sees the same x values).
    """
    if (length is None) == (years is None):
        raise ValueError("give exactly one of length or years")
    if align not in ("calendar", "pattern"):
        raise ValueError(f"align must be 'calendar' or 'pattern', got {align!r}")
    want = sorted(int(y) for y in years) if years is not None else []
    offsets = [y - want[0] for y in want]
    span = offsets[-1] + 1 if want else length
    positive = godt[(godt[measure] > 0) & ~godt["country"].isin(list(exclude))]
    out: dict[str, pd.Series] = {}
    for country, g in positive.groupby("country", sort=True):
        s = g.set_index("year")[measure].sort_index()
        s = s[~s.index.duplicated(keep="last")].astype(float)
        if years is not None and align == "calendar":
            if all(y in s.index for y in want):
                out[str(country)] = s.loc[want]
            continue
        need = max(span, min_run or span)
        runs = [r for r in consecutive_runs(s.index) if r[1] - r[0] + 1 >= need]
        if not runs:
            continue
        first = runs[-1][1] - span + 1
        pick = [first + o for o in offsets] if years is not None else list(range(first, first + span))
        out[str(country)] = s.loc[pick]
    return out


def benchmark_fits(godt: pd.DataFrame, length: int | None = None, measure: str = "actual_dd",
                   years: Sequence[int] | None = None, models: Sequence[str] = MODELS,
                   forms: Sequence[str] = FORMS, exclude: Sequence[str] = ("China",),
                   min_run: int | None = None, align: str = "calendar") -> pd.DataFrame:
    """Fit every qualifying country's window (see ``country_windows``).

    A window whose values are all equal is left out: its annual R² is undefined and the running
    total of a constant is a straight line, fitted exactly by every polynomial model.
    Columns: country, form, model, first_year, last_year, n, r2, one_minus_r2, aic, converged.
    """
    rows = []
    for country, s in country_windows(godt, length, measure, years, exclude, min_run, align).items():
        if s.nunique() < 2:
            continue
        for f in fit_series(s.index.to_numpy(), s.to_numpy(), models, forms):
            rows.append({"country": country, "form": f.form, "model": f.model,
                         "first_year": int(f.years[0]), "last_year": int(f.years[-1]), "n": f.n,
                         "r2": f.r2, "one_minus_r2": f.one_minus_r2, "aic": f.aic,
                         "converged": f.converged})
    cols = ["country", "form", "model", "first_year", "last_year", "n", "r2", "one_minus_r2",
            "aic", "converged"]
    return pd.DataFrame(rows, columns=cols)


def rank_target(bench: pd.DataFrame, target_fits: Sequence[Fit]) -> pd.DataFrame:
    """Rank each target fit's 1 - R² among the countries' fits of the same model and form.

    Countries whose 1 - R² is NaN (e.g. a failed exponential fit) are left out and counted in
    ``n_excluded``. Columns: form, model, target_one_minus_r2, n_countries, n_excluded,
    rank, percentile, median_one_minus_r2, min_one_minus_r2, ratio_median_to_target,
    orders_of_magnitude, share_10x (share of countries with 1 - R² at least 10x the target's),
    share_100x.
    """
    rows = []
    for f in target_fits:
        sel = bench[(bench["form"] == f.form) & (bench["model"] == f.model)]["one_minus_r2"]
        vals = sel.to_numpy(dtype=float)
        ok = vals[~np.isnan(vals)]
        t = f.one_minus_r2
        med = float(np.median(ok)) if ok.size else float("nan")
        ratio = med / t if ok.size and t > 0 else float("nan")
        rows.append({
            "form": f.form, "model": f.model, "target_one_minus_r2": t,
            "n_countries": int(ok.size), "n_excluded": int(vals.size - ok.size),
            "rank": int(1 + np.count_nonzero(ok < t)) if ok.size and not np.isnan(t) else np.nan,
            "percentile": percentile_of(ok, t),
            "median_one_minus_r2": med,
            "min_one_minus_r2": float(ok.min()) if ok.size else float("nan"),
            "ratio_median_to_target": ratio,
            "orders_of_magnitude": float(np.log10(ratio)) if ratio > 0 else float("nan"),
            "share_10x": float(np.mean(ok >= 10 * t)) if ok.size and not np.isnan(t) else float("nan"),
            "share_100x": float(np.mean(ok >= 100 * t)) if ok.size and not np.isnan(t) else float("nan"),
        })
    return pd.DataFrame(rows)
