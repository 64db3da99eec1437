"""Break-even values: what one would have to believe for a period's unexplained gap to vanish.

For a key assumption x (organs per executed person, share of executed persons used, organs per
voluntary donor, reported/true donors, true executions or true volume as a multiple of the
published figures), the break-even value is the x at which the **posterior median** of the
period's cumulative gap is zero, every other assumption held at the base scenario. x is fixed in
the scenario (``{dist = "Fixed", value = x}``, or a Fixed bias for the multiples) and the model
refitted; the root is found by Brent's method (``scipy.optimize.brentq``) over refits, each
through ``run_fit`` and its cache (seeded, so repeatable). When the median gap has the same sign
at both ends of the bracket, the answer is "no root in [a, b]", not an extrapolation.

The multiples enter as biases of the evidence classes: a report R = true x exp(b), so "true =
m x published" is b = -ln m, set on every class of the target (official, international,
independent for executions; official and international - GODT republishes official figures - for
volume). Recorded minimums and bounds carry no bias and still apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.sensitivity.sweep import FitJob, fit_once, summarize_result


def fixed(value: float) -> dict:
    return {"dist": "Fixed", "value": float(value)}


@dataclass(frozen=True)
class Quantity:
    name: str
    label: str  # what x is, in words
    keys: tuple[str, ...]  # scenario keys set from x
    kind: str  # "fixed": keys = Fixed(x); "multiple": keys = Fixed(bias -ln x)
    bracket: tuple[float, float]
    natural: str | None = None  # latent whose per-year posterior mean at the root is reported
    published: str | None = None  # how to read its published range from the observations

    def overrides(self, x: float) -> dict:
        if not x > 0:
            raise ValueError(f"{self.name}: value must be > 0, found {x}")
        value = fixed(x) if self.kind == "fixed" else fixed(-math.log(x))
        return {k: value for k in self.keys}


QUANTITIES: dict[str, Quantity] = {q.name: q for q in [
    Quantity("executions", "true executions as a multiple of published execution figures",
             tuple(f"evidence.executions.{g}.bias" for g in ("official", "international", "independent")),
             "multiple", (0.2, 3.0), natural="executions", published="executions"),
    Quantity("share_executed_used", "share of executed persons whose organs were used",
             ("supply.share_executed_used",), "fixed", (0.02, 1.0)),
    Quantity("organs_per_executed", "organs transplanted per executed person used",
             ("supply.organs_per_executed",), "fixed", (0.25, 5.0)),
    Quantity("organs_per_donor", "organs transplanted per voluntary deceased donor",
             ("supply.organs_per_donor",), "fixed", (1.0, 6.0), published="organs_per_donor"),
    Quantity("donor_report_inflation", "reported voluntary donors / true donors",
             ("supply.donor_report_inflation",), "fixed", (0.3, 3.0)),
    Quantity("official_volume", "true volume as a multiple of official and GODT volume figures",
             ("evidence.volume.official.bias", "evidence.volume.international.bias"),
             "multiple", (0.25, 4.0), natural="volume", published="volume"),
]}
DEFAULT_QUANTITIES = list(QUANTITIES)


def parse_bracket(text: str) -> tuple[str, tuple[float, float]]:
    """``NAME=A,B`` -> (name, (a, b)); ValueError naming the problem."""
    name, _, rest = text.partition("=")
    name = name.strip()
    if name not in QUANTITIES:
        raise ValueError(f"--bracket {text!r}: unknown quantity {name!r}; allowed: {', '.join(QUANTITIES)}")
    try:
        a, b = (float(v) for v in rest.split(","))
    except ValueError:
        raise ValueError(f"--bracket {text!r}: expected NAME=A,B with two numbers") from None
    if not (0 < a < b) or not math.isfinite(b):
        raise ValueError(f"--bracket {text!r}: need 0 < A < B, found A={a}, B={b}")
    return name, (a, b)


class _Close(Exception):
    """Raised inside brentq when a refit's median gap is within the tolerance of zero."""

    def __init__(self, x: float):
        self.x = x


def search(job: FitJob, name: str, bracket: tuple[float, float] | None = None, rtol: float = 0.01,
           gap_tol: float = 0.005, max_refits: int = 8, verbose: bool = False) -> dict:
    """Root search of every period's median gap for one quantity (a worker task; never raises).

    ``rtol``: stop when the root is bracketed within ``rtol`` x its value; ``gap_tol``: or when a
    refit's median gap is within ``gap_tol`` x the gap's swing over the bracket; ``max_refits``:
    at most this many refits per period beyond the two bracket ends. ``verbose``: one line per
    refit on stderr (useful in-process; a remote worker's stderr goes to its own log).
    Returns {"rows": one dict per period, "evaluations": one dict per refit and period}.
    """
    from scipy.optimize import brentq

    q = QUANTITIES[name]
    a, b = bracket or q.bracket
    memo: dict[float, dict] = {}
    evals: list[dict] = []

    def evaluate(x: float) -> dict:
        x = float(x)
        if x not in memo:
            res = fit_once(job, q.overrides(x))
            s = summarize_result(res, extra_means=[q.natural] if q.natural else [])
            memo[x] = s
            if verbose:
                import sys

                gaps = ", ".join(f"{r.period}: {r.gap_median:,.0f}" for r in s["by_period"].itertuples())
                print(f"  {name} = {x:.5g}: median gap {gaps}{' (cached)' if s['from_cache'] else ''}",
                      file=sys.stderr, flush=True)
            for r in s["by_period"].itertuples():
                evals.append({"quantity": name, "value": x, "period": r.period,
                              "gap_median": r.gap_median, "gap_q05": r.gap_q05, "gap_q95": r.gap_q95,
                              "diagnostics_passed": s["diagnostics"]["passed"],
                              "from_cache": s["from_cache"]})
        return memo[x]

    def median(x: float, period: str) -> float:
        per = evaluate(x)["by_period"].set_index("period")
        return float(per.loc[period, "gap_median"])

    base_row = {"quantity": name, "label": q.label, "bracket_lo": a, "bracket_hi": b}
    try:
        ends = evaluate(a), evaluate(b)
    except Exception as exc:  # noqa: BLE001 - recorded, the other quantities go on
        return {"rows": [base_row | {"period": "", "status": "failed", "error": f"{type(exc).__name__}: {exc}"}],
                "evaluations": evals}
    rows = []
    for period in ends[0]["by_period"]["period"]:
        fa, fb = median(a, period), median(b, period)
        row = base_row | {"period": period, "gap_at_lo": fa, "gap_at_hi": fb, "error": ""}
        if fa == 0 or fb == 0:
            x = a if fa == 0 else b
            rows.append(row | _root_row(q, evaluate(x), x, period, "root", 0))
            continue
        if np.sign(fa) == np.sign(fb):
            side = "above" if fa > 0 else "below"
            rows.append(row | {"status": "no root in bracket", "note":
                               f"median gap stays {side} zero from {a:g} to {b:g}"})
            continue
        tol = gap_tol * abs(fb - fa)
        n_before = len(memo)

        def f(x, period=period, tol=tol):
            v = median(x, period)
            if abs(v) <= tol:
                raise _Close(x)
            return v

        try:
            try:
                x, info = brentq(f, a, b, rtol=rtol, xtol=1e-6 * (b - a), maxiter=max_refits,
                                 full_output=True, disp=False)
                status = "root" if info.converged else "not converged"
            except _Close as close:
                x, status = close.x, "root"
            rows.append(row | _root_row(q, evaluate(x), x, period, status, len(memo) - n_before))
        except Exception as exc:  # noqa: BLE001
            rows.append(row | {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                               "refits": len(memo) - n_before})
    return {"rows": rows, "evaluations": evals}


def _root_row(q: Quantity, s: dict, x: float, period: str, status: str, refits: int) -> dict:
    per = s["by_period"].set_index("period").loc[period]
    out = {"status": status, "breakeven": x, "refits": refits, "gap_median_at_root": per["gap_median"],
           "gap_q05_at_root": per["gap_q05"], "gap_q95_at_root": per["gap_q95"],
           "diagnostics_passed": s["diagnostics"]["passed"], "note": ""}
    if q.kind == "multiple":
        out["bias"] = -math.log(x)
    if q.natural:
        out[f"{q.natural}_per_year_at_root"] = per[f"{q.natural}_per_year"]
    return out


def search_task(job: FitJob, name: str, bracket, rtol: float, gap_tol: float, max_refits: int,
                verbose: bool = False) -> dict:
    """Worker wrapper: a task never raises (a failure becomes a row)."""
    try:
        return search(job, name, bracket, rtol, gap_tol, max_refits, verbose)
    except Exception as exc:  # noqa: BLE001
        return {"rows": [{"quantity": name, "period": "", "status": "failed",
                          "error": f"{type(exc).__name__}: {exc}"}], "evaluations": []}


def run_breakeven(job: FitJob, names: list[str], brackets: dict | None = None, rtol: float = 0.01,
                  gap_tol: float = 0.005, max_refits: int = 8, backend: str = "local", jobs: int = 1,
                  scheduler: str | None = None, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Search every quantity (one task each, in parallel); (breakeven table, evaluations)."""
    from analysis.sensitivity.sweep import run_tasks

    unknown = [n for n in names if n not in QUANTITIES]
    if unknown:
        raise ValueError(f"unknown quantity {unknown[0]!r}; allowed: {', '.join(QUANTITIES)}")
    brackets = brackets or {}
    verbose = backend == "local" and jobs == 1  # in this process: report every refit
    args = [(job, n, brackets.get(n), rtol, gap_tol, max_refits, verbose) for n in names]
    rows, evals = [], []
    for i, out in run_tasks(search_task, args, backend, jobs, scheduler):
        rows += out["rows"]
        evals += out["evaluations"]
        if progress is not None:
            done = ", ".join(f"{r.get('period')}: {r.get('status')}" for r in out["rows"])
            progress.update(f"{names[i]}: {done}")
    order = {n: i for i, n in enumerate(names)}
    table = pd.DataFrame(rows)
    table = table.sort_values(["quantity", "period"], key=lambda s: s.map(order) if s.name == "quantity" else s,
                              kind="mergesort").reset_index(drop=True)
    ev = pd.DataFrame(evals)
    if not ev.empty:
        ev = ev.sort_values(["quantity", "period", "value"], key=lambda s: s.map(order) if s.name == "quantity" else s,
                            kind="mergesort").reset_index(drop=True)
    return table, ev


# ---- published ranges and prior intervals (the chart's reference bars) ----------------------

def _numbers(frame: pd.DataFrame) -> np.ndarray:
    vals = pd.concat([frame["value"], frame["low"], frame["high"]]).dropna().to_numpy(float)
    return vals[vals > 0]


RANGE_EXCLUDED_FLAGS = {"partial_year", "projection", "gap_claim"}  # not a year's figure of the quantity


def published_range(obs: pd.DataFrame, name: str, period: tuple[int, int]) -> dict | None:
    """Min and max of the published figures of the quantity in the period (data/raw), or None.

    executions: single-year execution figures of any kind (estimates, recorded minimums);
    official_volume: single-year total transplant figures (all organs and donor types, any source
    and kind, capacity estimates included); organs_per_donor: organs / donors reported by the same
    source for the same years. Rows flagged partial_year, projection or gap_claim are left out.
    Other quantities have no published figure in data/raw.
    """
    q = QUANTITIES[name]
    if q.published is None:
        return None
    a, b = period
    flags = obs["flag"].fillna("").astype(str).str.split(";")
    usable = ~flags.map(lambda fs: bool(set(fs) & RANGE_EXCLUDED_FLAGS))
    o = obs[usable & (obs["year"] >= a) & (obs["year_end"] <= b)]
    single = o[o["year"] == o["year_end"]]
    if q.published == "executions":
        vals = _numbers(single[(single["family"] == "executions") & (single["unit"] == "executions")])
        what = "executions per year"
    elif q.published == "volume":
        f = single[(single["family"] == "volumes") & single["unit"].isin(["transplants", "recipients", "organs_transplanted", "organs"])
                   & (single["organ"].fillna("all").replace("", "all") == "all")
                   & (single["donor_type"].fillna("all").replace("", "all") == "all")]
        vals = _numbers(f)
        what = "transplants per year"
    else:  # organs_per_donor
        d = o[(o["family"] == "donation") & o["donor_type"].fillna("").isin(["", "deceased", "all"])]
        key = ["source_id", "year", "year_end"]
        donors = d[d["unit"] == "donors"].dropna(subset=["value"]).groupby(key)["value"].max()
        organs = d[d["unit"] == "organs"].dropna(subset=["value"]).groupby(key)["value"].max()
        ratio = (organs / donors).dropna()
        vals = ratio[(ratio > 0.5) & (ratio < 10)].to_numpy(float)
        what = "organs / donors, same source and years"
    if len(vals) == 0:
        return None
    return {"low": float(vals.min()), "high": float(vals.max()), "n": int(len(vals)), "what": what}


def prior_interval(base, name: str, prob: float = 0.9) -> tuple[float, float] | None:
    """The base scenario's central ``prob`` prior interval of the quantity (x scale), or None."""
    from scipy import stats

    q = QUANTITIES[name]
    lo_p, hi_p = (1 - prob) / 2, (1 + prob) / 2
    spec = base.get(q.keys[0])
    d = spec["dist"]
    if d == "Fixed":
        v = spec["value"]
        return (math.exp(-v),) * 2 if q.kind == "multiple" else (v, v)
    dist = {"Normal": lambda s: stats.norm(s["mu"], s["sigma"]),
            "LogNormal": lambda s: stats.lognorm(s["sigma"], scale=math.exp(s["mu"])),
            "Beta": lambda s: stats.beta(s["alpha"], s["beta"]),
            "Gamma": lambda s: stats.gamma(s["alpha"], scale=1 / s["beta"]),
            "HalfNormal": lambda s: stats.halfnorm(scale=s["sigma"]),
            "Uniform": lambda s: stats.uniform(s["lower"], s["upper"] - s["lower"])}[d](spec)
    lo, hi = float(dist.ppf(lo_p)), float(dist.ppf(hi_p))
    if q.kind == "multiple":  # m = exp(-b): the interval flips
        return math.exp(-hi), math.exp(-lo)
    return lo, hi
