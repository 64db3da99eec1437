"""The two sensitivity runs end to end: a sweep (grid or Latin hypercube, with power-scaling of
the base fit) and the break-even search; each writes its tables, charts and manifest at once."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from analysis.scenarios import Scenario
from analysis.sensitivity import breakeven as be
from analysis.sensitivity import output
from analysis.sensitivity.grid import Vary, design_points
from analysis.sensitivity.sweep import FitJob, Progress, fit_once, run_sweep


def period_labels(job: FitJob) -> list[str]:
    from analysis.model.evidence import build_evidence
    from analysis.model.summarize import periods_resolved

    years = build_evidence(job.obs, job.base).years
    return [f"{a}-{b}" for a, b in periods_resolved(job.base.get("years.periods"), years)]


def _settings_dict(job: FitJob) -> dict:
    return job.settings(job.base).as_dict()


def run_sensitivity(job: FitJob, varies: list[Vary], out_dir: Path, samples: int | None = None,
                    backend: str = "local", jobs: int = 1, scheduler: str | None = None,
                    oat: bool = True, psense: bool = True, charts: bool = True,
                    progress: Progress | None = None, echo=print) -> dict:
    """Fit every setting, summarise, chart, write; returns the manifest (with the tables)."""
    from analysis.sensitivity import charts as ch

    points = design_points(job.base, varies, samples=samples, oat=oat)  # ScenarioError before any fit
    keys = [v.key for v in varies]
    periods = period_labels(job)
    echo(f"sensitivity of scenario {job.base.name}: {len(points)} settings "
         f"({'Latin hypercube of ' + str(samples) if samples else 'full grid'} over {', '.join(keys)}"
         f"{', plus one-at-a-time and base points' if oat else ''}); backend {backend}, {jobs} job(s)")
    progress = progress or Progress(len(points), "sweep")
    t0 = time.perf_counter()
    try:
        results = run_sweep(job, points, backend=backend, jobs=jobs, scheduler=scheduler, progress=progress)
    finally:
        progress.close()
    wall = time.perf_counter() - t0
    table = output.sweep_table(points, results, keys, periods)
    by_year = output.by_year_table(points, results)
    tornado = ch.tornado_table(table, keys)
    texts = {"sensitivity.csv": output.csv_text(table, exact=tuple(keys)),
             "sensitivity_by_year.csv": output.csv_text(by_year),
             "tornado.csv": output.csv_text(tornado, exact=("low_at", "high_at"))}
    psense_note = "not requested"
    ps_table = None
    if psense:
        base_ok = results[0]["status"] == "ok"
        if base_ok:
            try:
                from analysis.sensitivity.psense import power_scaling

                ps_table = power_scaling(fit_once(job, {}))
                texts["psense.csv"] = output.csv_text(ps_table)
                psense_note = "computed"
            except Exception as exc:  # noqa: BLE001 - reported in the manifest, the sweep stands
                psense_note = f"failed: {type(exc).__name__}: {exc}"
        else:
            psense_note = "base fit failed"
    binaries = {}
    if charts:
        ok_points = table[table["status"] == "ok"][["point", "label"]].drop_duplicates()
        if len(tornado):
            binaries["tornado.png"] = output.png_bytes(ch.plot_tornado(tornado, job.base.name))
        if len(ok_points):
            binaries["small_multiples.png"] = output.png_bytes(
                ch.plot_small_multiples(by_year, ok_points, job.base.name))
            binaries["spec_curve.png"] = output.png_bytes(ch.plot_spec_curve(table, keys, job.base.name))
    n_failed = sum(r["status"] != "ok" for r in results)
    manifest = {
        "created_utc": output.now_utc(),
        "base_scenario": {"name": job.base.name, "hash": job.base.hash},
        "keys": keys, "values": {v.key: list(v.values) for v in varies},
        "design": f"latin_hypercube({samples})" if samples else "full_grid",
        "one_at_a_time_points": oat, "settings": len(points), "failed": n_failed,
        "sampler": _settings_dict(job), "quick": job.quick, "backend": backend, "jobs": jobs,
        "scheduler": scheduler, "wall_seconds": round(wall, 1), "psense": psense_note,
        "fits_from_cache": sum(bool(r.get("from_cache")) for r in results),
    }
    texts["sensitivity.json"] = output.json_text(manifest)
    output.write_all(out_dir, texts, binaries)
    return manifest | {"table": table, "tornado": tornado, "psense_table": ps_table}


def _period_tuple(label: str) -> tuple[int, int]:
    a, b = label.split("-")
    return int(a), int(b)


def breakeven_references(table: pd.DataFrame, obs: pd.DataFrame, base: Scenario) -> pd.DataFrame:
    """Add published range / prior interval columns and the chart's plotting scale."""
    out = table.copy()
    for col in ["published_low", "published_high", "published_n", "published_what", "prior_low", "prior_high",
                "plot_value", "ref_low", "ref_high", "ref_kind", "scale_label"]:
        out[col] = None
    for i, r in out.iterrows():
        q = be.QUANTITIES.get(r["quantity"])
        if q is None or not r.get("period"):
            continue
        pub = be.published_range(obs, q.name, _period_tuple(r["period"]))
        if pub:
            out.loc[i, ["published_low", "published_high", "published_n", "published_what"]] = (
                pub["low"], pub["high"], pub["n"], pub["what"])
        prior = be.prior_interval(base, q.name)
        if prior:
            out.loc[i, ["prior_low", "prior_high"]] = prior
        root = r.get("breakeven")
        has_root = root is not None and not (isinstance(root, float) and math.isnan(root))
        if q.natural:  # plotted in its natural unit: per year, as the published figures
            nat = r.get(f"{q.natural}_per_year_at_root")
            out.loc[i, "plot_value"] = nat if has_root else None
            out.loc[i, "scale_label"] = f"{q.natural} per year implied at the break-even ({q.label})"
            if pub:
                out.loc[i, ["ref_low", "ref_high", "ref_kind"]] = (pub["low"], pub["high"], "published")
        else:
            out.loc[i, "plot_value"] = root if has_root else None
            out.loc[i, "scale_label"] = q.label
            if pub:
                out.loc[i, ["ref_low", "ref_high", "ref_kind"]] = (pub["low"], pub["high"], "published")
            elif prior:
                out.loc[i, ["ref_low", "ref_high", "ref_kind"]] = (*prior, "prior")
    for col in ["plot_value", "ref_low", "ref_high", "published_low", "published_high", "prior_low", "prior_high"]:
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def run_breakeven(job: FitJob, names: list[str], out_dir: Path, brackets: dict | None = None,
                  rtol: float = 0.01, gap_tol: float = 0.005, max_refits: int = 8, backend: str = "local",
                  jobs: int = 1, scheduler: str | None = None, charts: bool = True,
                  progress: Progress | None = None, echo=print) -> dict:
    """Search every quantity's break-even per period; write breakeven.csv, evaluations, chart."""
    from analysis.sensitivity import charts as ch

    echo(f"break-even search, scenario {job.base.name}: {', '.join(names)} "
         f"(Brent's method over refits, <= {max_refits} refits per period beyond the bracket ends)")
    progress = progress or Progress(len(names), "break-even")
    t0 = time.perf_counter()
    try:
        table, evals = be.run_breakeven(job, names, brackets, rtol, gap_tol, max_refits, backend, jobs,
                                        scheduler, progress)
    finally:
        progress.close()
    wall = time.perf_counter() - t0
    table = breakeven_references(table, job.obs, job.base)
    keep = [c for c in ["quantity", "label", "period", "status", "breakeven", "bias", "executions_per_year_at_root",
                        "volume_per_year_at_root", "gap_median_at_root", "gap_q05_at_root", "gap_q95_at_root",
                        "diagnostics_passed", "refits", "bracket_lo", "bracket_hi", "gap_at_lo", "gap_at_hi",
                        "published_low", "published_high", "published_n", "published_what", "prior_low",
                        "prior_high", "note", "error"] if c in table.columns]
    texts = {"breakeven.csv": output.csv_text(table[keep]),
             "breakeven_evaluations.csv": output.csv_text(evals)}
    binaries = {}
    if charts and len(table):
        binaries["breakeven.png"] = output.png_bytes(ch.plot_breakeven(table, table, job.base.name))
    manifest = {
        "created_utc": output.now_utc(),
        "base_scenario": {"name": job.base.name, "hash": job.base.hash},
        "quantities": {n: {"label": be.QUANTITIES[n].label, "keys": list(be.QUANTITIES[n].keys),
                           "kind": be.QUANTITIES[n].kind,
                           "bracket": list((brackets or {}).get(n) or be.QUANTITIES[n].bracket)} for n in names},
        "rtol": rtol, "gap_tol": gap_tol, "max_refits": max_refits, "sampler": _settings_dict(job),
        "quick": job.quick, "backend": backend, "jobs": jobs, "wall_seconds": round(wall, 1),
        "refits": int(evals[["quantity", "value"]].drop_duplicates().shape[0]) if len(evals) else 0,
    }
    texts["breakeven.json"] = output.json_text(manifest)
    output.write_all(out_dir, texts, binaries)
    return manifest | {"table": table[keep], "evaluations": evals}
