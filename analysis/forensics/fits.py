"""Fit a yearly series (or its running total) to simple curves and measure how close the fit is.

Models (``MODELS``), all in the year index ``x``:

- ``quadratic``         y = a x² + b x + c      (3 parameters)
- ``quadratic_origin``  y = a x²                (1 parameter; the curve passes through 0 at x = 0)
- ``linear``            y = b x + c             (2 parameters)
- ``exponential``       y = A exp(r x)          (2 parameters)

Convention: ``x = year - first_year + 1``, so the first year of the series is x = 1 and the
one-parameter quadratic is 0 in the year before the series starts (for a series starting in 2010,
y(2009) = 0). Gaps are allowed in the annual form (x keeps counting calendar years); the cumulative
form (running total of the annual values) needs consecutive years.

The polynomial models are ordinary least squares (``numpy.linalg.lstsq``). The exponential is least
squares on the original scale (``scipy.optimize.curve_fit``) started from the log-linear fit of the
positive values.

Goodness of fit: ``R² = 1 - SSR/SST`` with ``SST`` about the mean of y, for every model (including
the one without intercept, so R² can be negative and 1 - R² can exceed 1); NaN when y is constant.
``AIC = n ln(SSR/n) + 2k`` (Gaussian errors, k = number of curve parameters; -inf for an exact fit).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from analysis.forensics.rank import is_consecutive

MODELS = ("quadratic", "quadratic_origin", "linear", "exponential")
FORMS = ("annual", "cumulative")
N_PARAMS = {"quadratic": 3, "quadratic_origin": 1, "linear": 2, "exponential": 2}
COEF_NAMES = {"quadratic": ("a", "b", "c"), "quadratic_origin": ("a",), "linear": ("b", "c"),
              "exponential": ("A", "r")}


@dataclass(frozen=True)
class Fit:
    """One fitted curve: coefficients, fitted values, residuals and goodness of fit."""

    model: str
    form: str
    years: np.ndarray
    x: np.ndarray
    y: np.ndarray
    coefficients: dict[str, float]
    fitted: np.ndarray
    residuals: np.ndarray
    r2: float
    aic: float
    converged: bool = True

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def k(self) -> int:
        return N_PARAMS[self.model]

    @property
    def one_minus_r2(self) -> float:
        return float(1.0 - self.r2)

    def predict(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        """Curve values at year index ``x``."""
        return curve(self.model, np.asarray(x, dtype=float), self.coefficients)


def year_index(years: Sequence[int] | np.ndarray) -> np.ndarray:
    """x = year - first_year + 1 (first year is 1). Years must be strictly increasing."""
    ys = np.asarray(years, dtype=float)
    if ys.size and np.any(np.diff(ys) <= 0):
        raise ValueError(f"years must be strictly increasing, got {list(ys.astype(int))}")
    return ys - ys[0] + 1.0 if ys.size else ys


def curve(model: str, x: np.ndarray, coef: dict[str, float]) -> np.ndarray:
    """Evaluate ``model`` with coefficients ``coef`` at ``x``."""
    if model == "quadratic":
        return coef["a"] * x**2 + coef["b"] * x + coef["c"]
    if model == "quadratic_origin":
        return coef["a"] * x**2
    if model == "linear":
        return coef["b"] * x + coef["c"]
    if model == "exponential":
        return coef["A"] * np.exp(coef["r"] * x)
    raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")


def r_squared(y: np.ndarray, fitted: np.ndarray) -> float:
    """1 - SSR/SST, SST about the mean of y; NaN when y is constant."""
    y, fitted = np.asarray(y, dtype=float), np.asarray(fitted, dtype=float)
    sst = float(np.sum((y - y.mean()) ** 2))
    if sst == 0.0:
        return float("nan")
    return float(1.0 - np.sum((y - fitted) ** 2) / sst)


def aic(residuals: np.ndarray, k: int) -> float:
    """n ln(SSR/n) + 2k for Gaussian least squares; -inf when SSR is 0."""
    r = np.asarray(residuals, dtype=float)
    ssr = float(np.sum(r**2))
    if ssr == 0.0:
        return float("-inf")
    return float(r.size * np.log(ssr / r.size) + 2 * k)


def _design(model: str, x: np.ndarray) -> np.ndarray:
    if model == "quadratic":
        return np.column_stack([x**2, x, np.ones_like(x)])
    if model == "quadratic_origin":
        return (x**2)[:, None]
    if model == "linear":
        return np.column_stack([x, np.ones_like(x)])
    raise ValueError(f"{model!r} is not a linear-in-parameters model")


def _exponential(x: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], bool]:
    pos = y > 0
    if np.count_nonzero(pos) >= 2:
        r0, log_a0 = np.polyfit(x[pos], np.log(y[pos]), 1)
        p0 = [float(np.exp(log_a0)), float(r0)]
    else:
        p0 = [float(np.mean(y)) or 1.0, 0.0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(lambda t, a, r: a * np.exp(r * t), x, y, p0=p0, maxfev=20000)
    except (RuntimeError, ValueError):
        return {"A": float("nan"), "r": float("nan")}, False
    return {"A": float(popt[0]), "r": float(popt[1])}, bool(np.all(np.isfinite(popt)))


def fit_curve(years: Sequence[int] | np.ndarray, y: Sequence[float] | np.ndarray, model: str,
              form: str = "annual") -> Fit:
    """Fit ``model`` to values ``y`` observed in ``years`` (already in the given ``form``).

    Needs at least k + 1 points (k = number of parameters) and finite values.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    years = np.asarray(years, dtype=int)
    y = np.asarray(y, dtype=float)
    if years.shape != y.shape:
        raise ValueError("years and values differ in length")
    if not np.all(np.isfinite(y)):
        raise ValueError("values must be finite")
    k = N_PARAMS[model]
    if y.size < k + 1:
        raise ValueError(f"{model} needs at least {k + 1} points, got {y.size}")
    x = year_index(years)
    if model == "exponential":
        coef, converged = _exponential(x, y)
    else:
        beta, *_ = np.linalg.lstsq(_design(model, x), y, rcond=None)
        coef, converged = dict(zip(COEF_NAMES[model], map(float, beta), strict=True)), True
    fitted = curve(model, x, coef)
    residuals = y - fitted
    r2 = r_squared(y, fitted) if converged else float("nan")
    return Fit(model=model, form=form, years=years, x=x, y=y, coefficients=coef, fitted=fitted,
               residuals=residuals, r2=r2, aic=aic(residuals, k) if converged else float("nan"),
               converged=converged)


def series_form(years: Sequence[int], values: Sequence[float], form: str) -> np.ndarray:
    """The values in ``form``: as given (``annual``) or running total (``cumulative``)."""
    values = np.asarray(values, dtype=float)
    if form == "annual":
        return values
    if form == "cumulative":
        if not is_consecutive(years):
            raise ValueError("the cumulative form needs consecutive years")
        return np.cumsum(values)
    raise ValueError(f"unknown form {form!r}; known: {', '.join(FORMS)}")


def fit_series(years: Sequence[int], values: Sequence[float], models: Sequence[str] = MODELS,
               forms: Sequence[str] = FORMS) -> list[Fit]:
    """Every model in every form; the cumulative form is skipped when the years have gaps."""
    order = np.argsort(np.asarray(years))
    years = np.asarray(years, dtype=int)[order]
    values = np.asarray(values, dtype=float)[order]
    fits = []
    for form in forms:
        if form == "cumulative" and not is_consecutive(years):
            continue
        y = series_form(years, values, form)
        fits.extend(fit_curve(years, y, model, form) for model in models)
    return fits


def fits_table(fits: Sequence[Fit]) -> pd.DataFrame:
    """One row per fit: form, model, first/last year, n, k, r2, one_minus_r2, aic, coefficients."""
    rows = []
    for f in fits:
        row = {"form": f.form, "model": f.model, "first_year": int(f.years[0]),
               "last_year": int(f.years[-1]), "n": f.n, "k": f.k, "r2": f.r2,
               "one_minus_r2": f.one_minus_r2, "aic": f.aic, "converged": f.converged}
        row.update({f"coef_{name}": v for name, v in f.coefficients.items()})
        rows.append(row)
    return pd.DataFrame(rows)
