"""The field's published analyses, refitted under their own assumptions: `tgap replicate`.

Each literature scenario (analysis/scenarios/literature/*.toml) states, in its ``replication``
table, the figure the publication reports (its headline), the tgap quantity that corresponds
(organs not explained or the signed gap summed over years, or the mean yearly volume), and the
rows of data/raw it comes from. ``replication_table`` fits the baseline and every literature
scenario (fits are cached; models of one structure are compiled once per process) and returns one
row per headline: the publication's figure, tgap under its assumptions (median, 90% interval),
tgap baseline, whether tgap reproduces it (the rule of :func:`reproduced`, stated in each
scenario's ``tolerance``) and the scenario keys that separate it from the baseline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.scenarios import Scenario, literature, load_scenario

SKIP_KEYS = ("name", "description", "replication", "sampler")
COLUMNS = ["publication", "headline_id", "headline", "quantity", "years", "published_low",
           "published_high", "tgap_median", "tgap_q05", "tgap_q95", "baseline_median", "baseline_q05",
           "baseline_q95", "reproduced", "tolerance", "scenario", "keys_changed", "source_obs",
           "diagnostics_passed", "status", "error"]


def _flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in tree.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and "dist" not in v:
            out |= _flatten(v, key)
        else:
            out[key] = v
    return out


def _fmt(v) -> str:
    if v is None:
        return "(not set)"
    if isinstance(v, dict):
        return v["dist"] + "(" + ", ".join(f"{k}={p}" for k, p in v.items() if k != "dist") + ")"
    if isinstance(v, list):
        return json.dumps(v)
    return str(v)


def scenario_diff(scenario: Scenario, base: Scenario) -> list[str]:
    """``key: baseline -> scenario`` for every resolved key that differs (metadata skipped)."""
    mine = {k: v for k, v in _flatten(scenario.data).items() if k.split(".")[0] not in SKIP_KEYS}
    theirs = {k: v for k, v in _flatten(base.data).items() if k.split(".")[0] not in SKIP_KEYS}
    return [f"{k}: {_fmt(theirs.get(k))} -> {_fmt(mine.get(k))}" for k in sorted(set(mine) | set(theirs))
            if _fmt(mine.get(k)) != _fmt(theirs.get(k))]


def headline_draws(idata, quantity: str, years: tuple[int, int]) -> np.ndarray:
    """Posterior draws of a headline quantity over [years] (chains and draws stacked)."""
    a, b = years
    post = idata.posterior
    if quantity == "volume_per_year":
        da = post["volume"].sel(year=slice(a, b)).mean("year")
    elif quantity == "signed_gap":
        da = post["gap"].sel(year=slice(a, b)).sum("year")
    elif quantity == "not_explained":
        da = post["gap"].sel(year=slice(a, b)).clip(min=0).sum("year")
    else:
        raise ValueError(f"unknown replication quantity {quantity!r}")
    return np.asarray(da.values).ravel()


def reproduced(low: float | None, high: float | None, q05: float, median: float, q95: float) -> str:
    """"yes" / "no" / "n/a": a point figure (low == high) is reproduced when the 90% interval
    contains it; a published range when the posterior median lies inside it."""
    if low is None or high is None or not np.isfinite([low, high]).all():
        return "n/a"
    if low == high:
        return "yes" if q05 <= low <= q95 else "no"
    return "yes" if low <= median <= high else "no"


def _summary(draws: np.ndarray) -> tuple[float, float, float]:
    return float(np.median(draws)), float(np.quantile(draws, 0.05)), float(np.quantile(draws, 0.95))


def literature_scenarios(names: list[str] | None = None) -> list[Scenario]:
    """The literature scenarios (all, or those named), loaded and validated."""
    refs = names or list(literature())
    return [load_scenario(r) for r in refs]


def replication_table(obs: pd.DataFrame, scenarios: list[Scenario], fit: Callable[[Scenario], object],
                      progress=None, echo: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """One row per headline of every scenario; ``fit(scenario)`` returns a FitResult (or raises:
    the scenario's rows are then marked failed with the error and the run goes on)."""
    base = load_scenario("baseline")
    t0 = time.perf_counter()
    base_result = fit(base)
    if progress is not None:
        progress.update(f"baseline: fitted or loaded in {time.perf_counter() - t0:.1f} s")
    rows = []
    for sc in scenarios:
        t0 = time.perf_counter()
        diff = scenario_diff(sc, base)
        try:
            result, error = fit(sc), ""
        except Exception as exc:  # noqa: BLE001 - a failed scenario is a row, the run goes on
            result, error = None, f"{type(exc).__name__}: {exc}"
        for hid, h in sc.data.get("replication", {}).items():
            years = (int(h["years"][0]), int(h["years"][1]))
            row = {"publication": h["publication"], "headline_id": hid, "headline": h["headline"],
                   "quantity": h["quantity"], "years": f"{years[0]}-{years[1]}",
                   "published_low": h.get("low"), "published_high": h.get("high"),
                   "tolerance": h["tolerance"], "scenario": sc.name, "keys_changed": "; ".join(diff),
                   "source_obs": ";".join(h["source_obs"]), "status": "ok" if result else "failed",
                   "error": error}
            b = _summary(headline_draws(base_result.idata, h["quantity"], years))
            row |= {"baseline_median": b[0], "baseline_q05": b[1], "baseline_q95": b[2]}
            if result is not None:
                m = _summary(headline_draws(result.idata, h["quantity"], years))
                row |= {"tgap_median": m[0], "tgap_q05": m[1], "tgap_q95": m[2],
                        "reproduced": reproduced(h.get("low"), h.get("high"), m[1], m[0], m[2]),
                        "diagnostics_passed": _passed(result)}
            else:
                row |= {"reproduced": "failed"}
            rows.append(row)
        if progress is not None:
            state = "ok" if result is not None else f"FAILED: {error}"
            progress.update(f"{sc.name}: {state} in {time.perf_counter() - t0:.1f} s")
    return pd.DataFrame(rows, columns=COLUMNS)


def _passed(result) -> bool:
    from analysis.model.summarize import diagnostics, periods_resolved

    periods = periods_resolved(result.scenario.get("years.periods"), result.evidence.years)
    return bool(diagnostics(result.idata, periods, result.scenario.get("diagnostics"))["passed"])


def table_text(table: pd.DataFrame) -> str:
    """replication.csv: counts as whole organs, everything else as is."""
    from analysis.io import csv_text

    out = table.copy()
    for col in ("published_low", "published_high", "tgap_median", "tgap_q05", "tgap_q95",
                "baseline_median", "baseline_q05", "baseline_q95"):
        out[col] = pd.to_numeric(out[col], errors="coerce").round(0).astype("Int64")
    return csv_text(out)


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown (README / docs/replication.md): publication, its figure, tgap under
    its assumptions, tgap baseline, reproduced."""
    def n(v):
        return "" if v is None or pd.isna(v) else f"{v:,.0f}"

    lines = ["| publication | headline | quantity, years | tgap under its assumptions: median [90%] | "
             "tgap baseline: median [90%] | reproduced |", "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.publication} | {r.headline} | {r.quantity.replace('_', ' ')}, {r.years} | "
                     f"{n(r.tgap_median)} [{n(r.tgap_q05)}, {n(r.tgap_q95)}] | "
                     f"{n(r.baseline_median)} [{n(r.baseline_q05)}, {n(r.baseline_q95)}] | {r.reproduced} |")
    return "\n".join(lines) + "\n"


def report_fragment(rep_dir) -> str:
    """HTML (``<h3>`` + table) of ``rep_dir/replication.csv`` for the report's sensitivity section;
    FileNotFoundError when there is none (run ``tgap replicate``)."""
    import html
    from pathlib import Path

    from analysis import style
    from analysis.io import read_csv

    path = Path(rep_dir) / "replication.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: run tgap replicate")
    t = read_csv(path)
    meta_path = Path(rep_dir) / "manifest.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}

    def n(v):
        return "" if pd.isna(v) else f"{v:,.0f}"

    rows = [[(str(r.publication), False), (str(r.headline), False),
             (f"{str(r.quantity).replace('_', ' ')}, {r.years}", False),
             (f"{n(r.tgap_median)} [{n(r.tgap_q05)}, {n(r.tgap_q95)}]", True),
             (f"{n(r.baseline_median)} [{n(r.baseline_q05)}, {n(r.baseline_q95)}]", True),
             (str(r.reproduced), False), (str(r.keys_changed), False)] for r in t.itertuples()]
    quick = " Quick draws: not for citation." if meta.get("quick") else ""
    return ("<h3 id=\"replication\">Published analyses under their own assumptions</h3>"
            f"<p>From <code>tgap replicate</code> ({html.escape(str(meta.get('created_utc', '?')))}, code "
            f"{html.escape(str(meta.get('code_version', '?')))}); docs/replication.md explains each row.{quick}</p>"
            + style.html_table(["publication", "headline", "quantity, years", "tgap under its assumptions",
                                "tgap baseline", "reproduced", "scenario keys that differ from the baseline"],
                               rows, cls="tgap-table"))
