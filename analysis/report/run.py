"""Build a scenario's report directory from a fit: fit outputs, charts, tables, index.html, manifest.

Layout of ``reports/<scenario>/``::

    index.html                 self-contained report (figures embedded, interactive charts inline)
    manifest.json              inputs, scenario, code version, sampler, seed, diagnostics, timings, quick
    datapackage.json           Frictionless data package: every CSV, every column with its unit
    idata.nc, gap_by_year.csv, gap_by_period.csv, evidence_used.csv, evidence_excluded.csv
    figures/<name>.png|.svg    every chart, PNG at 200 dpi and SVG (forensic charts as PNG)
    tables/<name>.csv          the tables behind the charts and the HTML
    data/                      the ingested observations and ingest manifest the fit used
    benchmarks/                the benchmark result files the page cites (calibration)
    forensics/                 the forensic outputs (written by `tgap report` before this step)

Every link in index.html is relative to this folder, so the folder can be moved or archived whole.

Everything is written into a staging directory inside the output directory and moved into place
only when every file is ready (``manifest.json`` and ``index.html`` last); on any error the
staging directory is removed and the previous report is left as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd

from analysis.io import MANIFEST, csv_text, finish_file, remove_leftovers, sha256_file, staging_dir
from analysis.model.fit import FitResult
from analysis.report import (
    arithmetic_charts,
    chart_cache,
    charts,
    criticism_section,
    fit_plots,
    interactive,
    memo,
    statements,
)
from analysis.report.forensics_section import ForensicsSection
from analysis.report.html import FigureRef, Page, figure, render
from analysis.report.progress import Steps
from analysis.scenarios.spec import ERROR_OVERRIDE_KEYS, ERROR_PARTS, TARGETS, as_prior

FIT_FILES = ["idata.nc", "gap_by_year.csv", "gap_by_period.csv", "capacity_gap_by_year.csv",
             "executions_required.csv", "composition_test.csv", "evidence_used.csv", "evidence_tested.csv",
             "evidence_excluded.csv", "loo_claims.csv", "loo_pit_histogram.csv"]
PREDICTIVE_TARGETS = ["volume", "executions", "donors", "living", "shares"]
TARGET_TITLES = {"volume": "Transplant volume figures", "executions": "Execution figures",
                 "donors": "Voluntary donation figures", "living": "Living-donor figures",
                 "shares": "Statements of shares"}


# ---- tables for the HTML ------------------------------------------------------------------


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and "dist" not in v:
            out |= _flatten(v, key + ".")
        else:
            out[key] = v
    return out


def _fmt_setting(v) -> str:
    if isinstance(v, dict) and "dist" in v:
        params = ", ".join(f"{k}={p}" for k, p in v.items() if k != "dist")
        return f"{v['dist']}({params})"
    if isinstance(v, list):
        return json.dumps(v)
    return str(v)


def scenario_settings(scenario) -> pd.DataFrame:
    """Every key of the resolved scenario (sampler excluded), its value, the baseline's value."""
    from analysis.scenarios import load_scenario

    mine = _flatten(scenario.data)
    try:
        base = _flatten(load_scenario("baseline").data)
    except Exception:  # noqa: BLE001 - a missing baseline only loses the comparison column
        base = {}
    skip = ("sampler", "extends", "name", "description")
    rows = []
    for key in sorted(set(mine) | set(base)):
        if key.split(".")[0] in skip:
            continue
        v, b = mine.get(key, "(not set)"), base.get(key, "(not set)")
        rows.append({"key": key, "value": _fmt_setting(v), "baseline": _fmt_setting(b),
                     "differs": _fmt_setting(v) != _fmt_setting(b)})
    return pd.DataFrame(rows, columns=["key", "value", "baseline", "differs"])


def _reviewer_assumptions(scenario) -> list[str]:
    """Include-only lists, origin / organ exclusions, row overrides and fixed supplies, when set."""
    rules, out = scenario.get("evidence.rules"), []
    lists = [f"{k.replace('_', ' ')}: {', '.join(rules[k])}" for k in
             ("include_series", "include_sources", "include_origins", "exclude_origins", "exclude_organs")
             if rules.get(k)]
    if lists:
        out.append("Rows selected by the scenario: " + "; ".join(lists) + ".")
    for obs_id, o in scenario.data.get("overrides", {}).items():
        cols = ", ".join(f"{k} = {o[k]}" for k in ("year", "year_end", "kind", "unit", "qualifier") if k in o)
        out.append(f"Row {obs_id} re-read by the scenario (overrides): {cols} ({o['reason']}).")
    for table, what in ERROR_OVERRIDE_KEYS.items():
        for name, o in scenario.get("evidence").get(table, {}).items():
            parts = "; ".join(f"{p} {_fmt_setting(as_prior(o[p]))}" for p in ERROR_PARTS if p in o)
            note = f" ({o['note']})" if o.get("note") else ""
            out.append(f"The rows of {what} {name} have their own {' and '.join(p for p in ERROR_PARTS if p in o)} "
                       f"in place of their evidence class's (evidence.{table}.{name}): {parts}{note}.")
    if rules.get("minimums_as_counts"):
        out.append("Recorded minimums (kind lower_bound) are read as counts of their class, with its bias "
                   "and noise (evidence.rules.minimums_as_counts); partial-year minimums stay bounds.")
    for label, f in scenario.data.get("fixed_supply", {}).items():
        size = (f"{f['per_year']:,.0f} a year" if "per_year" in f else f"{f['total']:,.0f} in total"
                if "total" in f else f"the yearly level of row {f.get('from_obs')}")
        out.append(f"Declared source {f['source']} given directly in {f['years'][0]}-{f['years'][1]} "
                   f"(fixed_supply.{label}): {size}, not estimated.")
    return out


def assumptions(scenario) -> list[str]:
    """The model's assumptions in words, with this scenario's values."""
    g = scenario.get
    rules = g("evidence.rules")
    excluded_classes = [f"{t}.{grp}" for t, groups in g("evidence").items() if t in TARGETS
                        for grp, cfg in groups.items() if not cfg["include"]]
    own = any(g("evidence").get(t) for t in ERROR_OVERRIDE_KEYS)
    return [
        f"Executed prisoners are a declared source through {g('declared.prisoner_source_until')}; the "
        f"voluntary deceased-donation system starts in {g('declared.donation_start')}; living donors are "
        "a declared source in every year.",
        "Gap = transplant volume − (organs from executed prisoners while declared + organs from voluntary "
        "donors + living-donor transplants); living donors explain themselves.",
        f"Share of executed persons whose organs were used: {_fmt_setting(g('supply.share_executed_used'))}; "
        f"organs per executed person used: {_fmt_setting(g('supply.organs_per_executed'))}; organs per "
        f"voluntary donor: {_fmt_setting(g('supply.organs_per_donor'))}; reported/true donors: "
        f"{_fmt_setting(g('supply.donor_report_inflation'))}. These factors are constant over time.",
        "Every published figure is a claim with a bias and a noise per evidence class (target × source "
        "group: official, international, independent); " + (
            "the series and origins listed below have their own." if own else
            "individual series have no bias of their own."),
        f"Capacity figures enter as: {rules['capacity_as']}; partial-year figures as: "
        f"{rules['partial_year_as']}; ranges as intervals: {rules['range_as_interval']}; one claim "
        f"relayed by several outlets enters once: {rules['collapse_repeats']}.",
        "Evidence classes excluded by the scenario: " + (", ".join(excluded_classes) or "none") + "; "
        "flags excluded: " + (", ".join(rules["exclude_flags"]) or "none") + "; series excluded: "
        + (", ".join(rules["exclude_series"]) or "none") + "; sources excluded: "
        + (", ".join(rules["exclude_sources"]) or "none") + ".",
        *_reviewer_assumptions(scenario),
        "The organ mix of transplants is constant over time (organ-specific figures get extra noise); "
        "one living donor gives one transplant.",
        "Yearly latent quantities follow random walks on the log scale: years without data borrow "
        "strength from their neighbours and get wider intervals.",
    ]


def _split_flags(obs: pd.DataFrame) -> pd.DataFrame:
    f = obs[["obs_id", "flag"]].copy()
    f["flag"] = f["flag"].fillna("").astype(str).str.split(";")
    f = f.explode("flag")
    f["flag"] = f["flag"].str.strip()
    return f[f["flag"] != ""]


def flags_table(obs: pd.DataFrame, evidence, scenario) -> pd.DataFrame:
    """Per data-quality flag: rows carrying it, rows entering the model, the scenario's treatment."""
    f = _split_flags(obs)
    if f.empty:
        return pd.DataFrame(columns=["flag", "rows", "rows_in_model", "treatment"])
    used = set(evidence.rows["obs_id"])
    rules = scenario.get("evidence.rules")
    cfg = scenario.get("flags")
    rows = []
    for flag, g in f.groupby("flag"):
        if flag in rules["exclude_flags"]:
            treat = "excluded (evidence.rules.exclude_flags)"
        elif flag in cfg:
            c = cfg[flag]
            treat = (f"included, noise sd × {c['noise_scale']}" if c["include"]
                     else "excluded (flags." + flag + ".include = false)")
        elif flag == "partial_year":
            treat = f"partial-year figures: {rules['partial_year_as']}"
        else:
            treat = "included like any other row"
        rows.append({"flag": flag, "rows": int(len(g)), "rows_in_model": int(g["obs_id"].isin(used).sum()),
                     "treatment": treat})
    return pd.DataFrame(rows).sort_values("rows", ascending=False).reset_index(drop=True)


def excluded_reasons(evidence) -> pd.DataFrame:
    ex = evidence.excluded
    if ex.empty:
        return pd.DataFrame(columns=["reason", "rows"])
    kind = ex["reason"].str.replace(r"\d{4}(-\d{4})?", "…", regex=True)
    g = pd.DataFrame({"reason": kind, "example": ex["reason"]}).groupby("reason", sort=False)
    out = g.agg(rows=("example", "size"), example=("example", "first")).reset_index()
    return out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def sources_table(sources: pd.DataFrame | None, obs: pd.DataFrame, evidence) -> pd.DataFrame:
    counts = obs.groupby("source_id").size()
    used = obs[obs["obs_id"].isin(set(evidence.rows["obs_id"]))].groupby("source_id").size()
    if sources is None or sources.empty:
        sources = pd.DataFrame({"source_id": sorted(obs["source_id"].unique())})
    s = sources.copy()
    for col in ["title", "author", "published", "url", "archive_url", "kind", "affiliation"]:
        if col not in s:
            s[col] = ""
        s[col] = s[col].fillna("").astype(str)
    s["observations"] = s["source_id"].map(counts).fillna(0).astype(int)
    s["in_model"] = s["source_id"].map(used).fillna(0).astype(int)
    cols = ["source_id", "title", "author", "published", "kind", "affiliation", "observations", "in_model",
            "url", "archive_url"]
    return s[cols].sort_values(["kind", "published", "source_id"]).reset_index(drop=True)


def predictive_by_series(pt: pd.DataFrame) -> pd.DataFrame:
    if pt.empty:
        return pd.DataFrame(columns=["target", "series", "figures", "inside_90", "share_inside_90"])
    g = pt.groupby(["target", "series"])["inside_90"].agg(figures="size", inside_90="sum").reset_index()
    g["inside_90"] = g["inside_90"].astype(int)
    g["share_inside_90"] = (g["inside_90"] / g["figures"]).round(2)
    return g.sort_values(["target", "share_inside_90", "series"]).reset_index(drop=True)


def read_sources(data_dir: Path) -> pd.DataFrame | None:
    from analysis.data import rules

    path = Path(data_dir) / rules.SOURCES_FILE
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def publisher_names(sources: pd.DataFrame | None) -> dict[str, str]:
    """source_id -> publisher (the registry's author field, else the source id)."""
    if sources is None or sources.empty or "author" not in sources:
        return {}
    return {r.source_id: (r.author or r.source_id) for r in sources.itertuples()}


INTERNAL_COLUMNS = ("lo", "hi")
"""Columns kept in memory but not written to user tables (log/logit-scale likelihood bounds)."""


def user_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as written for readers: no likelihood-scale internals; infinite bounds left blank."""
    import numpy as np

    out = frame.drop(columns=[c for c in INTERNAL_COLUMNS if c in frame.columns])
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    return out


# ---- writing ------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """One formatting rule for every report table (analysis.report.datapackage.round_for_csv)."""
    from analysis.report.datapackage import round_for_csv

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(round_for_csv(frame)), encoding="utf-8")


def _commit(staging: Path, out_dir: Path) -> list[str]:
    """Move every staged file onto its place in out_dir; return relative paths.

    The old manifest.json and index.html are removed first, then every other file is renamed into
    place, figures/tables of earlier reports that this one did not write are removed, and
    manifest.json, then index.html come last. A run killed on the way leaves a folder without a
    manifest (or without the index.html it lists), never one whose manifest vouches for files of
    two runs (``analysis.io.generation_problems``)."""
    files = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    last = [Path(MANIFEST), Path("index.html")]
    order = [f for f in files if f not in last] + [f for f in last if f in files]
    for rel in last:
        (out_dir / rel).unlink(missing_ok=True)
    written = {str(f) for f in files}
    for rel in order:
        if rel == last[0]:  # every other file is in place: drop what this report did not write
            for sub in ("figures", "tables"):
                for old in (out_dir / sub).glob("*") if (out_dir / sub).exists() else []:
                    if old.is_file() and str(old.relative_to(out_dir)) not in written:
                        old.unlink()
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        finish_file(staging / rel, target)
    return [str(f) for f in order]


def build_report(result: FitResult, observations: pd.DataFrame, out_dir: Path, *, inputs: dict,
                 sources: pd.DataFrame | None = None, forensics: ForensicsSection | None = None,
                 forensics_manifest: dict | None = None, timings: dict | None = None,
                 steps: Steps | None = None, derived_dir: Path | None = None,
                 benchmarks_dir: Path | None = None, leave_out: pd.DataFrame | None = None) -> dict:
    """Write the full report for ``result`` into ``out_dir``; return its manifest.

    ``inputs`` is the ingest manifest (raw file hashes); ``sources`` the source registry
    (data/raw/sources.csv) for the source list; ``forensics`` the section read from the forensic
    outputs; ``timings`` earlier steps' seconds (ingest, fit, forensics) for the manifest;
    ``derived_dir`` the ingested data (copied into data/); ``benchmarks_dir`` the benchmark results
    the page cites (default: benchmarks/results of the project root); ``leave_out`` the
    leave-one-origin-out table (analysis.model.leave_out), when it was run.
    """
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    own_steps = steps is None
    steps = steps or Steps("report", bar=False, echo=lambda _m: None)
    remove_leftovers(out_dir)
    staging = staging_dir(out_dir)
    try:
        manifest = _build(result, observations, out_dir, staging, inputs, sources, forensics,
                          forensics_manifest, timings or {}, steps, t_start, derived_dir, benchmarks_dir,
                          leave_out)
        with steps.step("commit"):
            _commit(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if own_steps:
            steps.close()
    return manifest


def _sensitivity_html(sens_dir: Path) -> str | None:
    """The sensitivity section from ``tgap sensitivity``/``tgap breakeven`` outputs, if any."""
    from analysis.sensitivity import report_section

    try:
        return report_section(sens_dir)
    except FileNotFoundError:
        return None


def _replication_html(rep_dir: Path) -> str | None:
    """The published analyses refitted (``tgap replicate``), if reports/replication exists."""
    from analysis.sensitivity.replicate import report_fragment

    try:
        return report_fragment(rep_dir)
    except FileNotFoundError:
        return None


def _benchmarks_dir(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return Path(explicit)
    from analysis.runtime import find_project_root

    root = find_project_root()
    return root / "benchmarks" / "results" if root else None


def _copy_inputs(staging: Path, derived_dir: Path | None, bench: Path | None) -> dict[str, str]:
    """Copy the ingested data and the cited benchmark files into the report; return label -> href."""
    copied = {}
    if derived_dir is not None:
        for name in ("observations.csv", "manifest.json"):
            if (Path(derived_dir) / name).is_file():
                (staging / "data").mkdir(exist_ok=True)
                shutil.copyfile(Path(derived_dir) / name, staging / "data" / name)
                copied[f"data/{name}"] = f"data/{name}"
    if bench is not None and (bench / "sbc.json").is_file():
        (staging / "benchmarks").mkdir(exist_ok=True)
        shutil.copyfile(bench / "sbc.json", staging / "benchmarks" / "sbc.json")
        copied["benchmarks/sbc.json"] = "benchmarks/sbc.json"
    return copied


def _build(result, obs, out_dir, staging, inputs, sources, forensics, forensics_manifest, timings, steps,
           t_start, derived_dir=None, benchmarks_dir=None, leave_out=None) -> dict:
    from analysis.model.outputs import summarize_fit, write_fit_outputs

    sc, idata, ev = result.scenario, result.idata, result.evidence
    name = sc.name
    memo_hits = []

    def once(fn, *args):  # computed once per fit, then read from beside the cached fit (memo)
        value, hit = memo.cached(result, fn, *args)
        if hit:
            memo_hits.append(fn.__name__)
        return value

    with steps.step("fit outputs"):
        manifest = write_fit_outputs(result, staging, inputs, summary=once(summarize_fit, result))
        summary = manifest.pop("summary")
        manifest.pop("files")  # the report's manifest lists every file under report.files
    full_sampler = {k: v for k, v in sc.get("sampler").items() if k != "quick"}
    status = statements.run_status(manifest.get("sampler", result.settings.as_dict()), full_sampler,
                                   summary["diagnostics"].get("passed", False))
    manifest["quick"] = status.quick
    manifest["run_status"] = status.label or "full run, diagnostics gate passed"
    bench = _benchmarks_dir(benchmarks_dir)
    copied = _copy_inputs(staging, derived_dir, bench)
    periods = summary["periods"]
    limits = sc.get("diagnostics")
    tables: dict[str, tuple[pd.DataFrame, str]] = {}
    with steps.step("tables"):
        declared = once(charts.declared_sources_table, idata)
        cumulative = once(charts.cumulative_gap_table, idata, periods)
        diag = once(charts.diagnostics_table, idata, periods, limits)
        pt = once(fit_plots.predictive_table, idata, ev, "posterior_predictive")
        by_series = predictive_by_series(pt)
        flags = flags_table(obs, ev, sc)
        reasons = excluded_reasons(ev)
        src = sources_table(sources, obs, ev)
        settings = scenario_settings(sc)
        from analysis.model.claims import origin_weights

        weights = origin_weights(ev, obs)
        tables = {
            "origin_weights.csv": (weights, "per origin (producer of the figures): kind, claims entering the "
                                   "model, rows in the data, relays collapsed into one claim"),
            "declared_sources_by_year.csv": (declared, "per year: quantiles of each declared source, their "
                                             "stacked sums, supply, volume, gap, P(gap > 0)"),
            "cumulative_gap.csv": (cumulative, "gap accumulated within each period, by year"),
            "diagnostics.csv": (diag, "R-hat, ESS and MCSE of the parameters, yearly gap and period sums"),
            "posterior_predictive.csv": (pt, "each likelihood row: observed bounds, predictive 5/50/95%"),
            "predictive_by_series.csv": (by_series, "per series: figures inside the predictive 90% interval"),
            "data_quality_flags.csv": (flags, "data-quality flags: rows, rows in the model, treatment"),
            "excluded_reasons.csv": (reasons, "observations not entering the model, by reason"),
            "sources.csv": (src, "sources with observation counts and rows entering the model"),
            "scenario_settings.csv": (settings, "every scenario key, its value and the baseline's"),
        }
        if leave_out is not None:
            tables["leave_origin_out.csv"] = (leave_out, "organs not explained per period, refitted "
                                              "without each large origin or evidence group (quick draws)")
        for fname, (frame, _) in tables.items():
            _csv(user_table(frame), staging / "tables" / fname)

    figures: dict[str, list[FigureRef]] = {"charts": [], "predictive": [], "diagnostics": [], "criticism": []}
    vol_obs = charts.volume_observations(obs, ev)
    gby = summary["gap_by_year"]
    publishers = publisher_names(sources)
    # each plan: section, key, title, caption, plotting function and exactly what it is drawn from
    # (chart_cache hashes those arguments; an unchanged chart is reused byte for byte)
    plans = [
        ("charts", "main", "Transplant volume vs declared sources",
         "Declared sources stacked (posterior medians; whiskers: 90% interval of each running sum), the "
         "volume's median and 90% band, hatched the volume not explained by declared sources (medians), "
         "and the published volume figures by source kind.",
         charts.plot_main, (declared, name, vol_obs), {"publishers": publishers}),
        ("charts", "gap_by_year", "Gap by year",
         "Organs not explained by declared sources per year: median, 50% and 90% intervals; below, the "
         "posterior probability that the gap is positive.",
         charts.plot_gap_by_year, (gby, name), {}),
        ("charts", "gap_by_period", "Cumulative gap by period",
         "The gap summed over each period (median, 50%, 90%, P(gap > 0)) and accumulated year by year.",
         charts.plot_periods, (summary["gap_by_period"], cumulative, name), {}),
        ("charts", "executions_required", "Executions required vs estimated",
         "Executions needed to supply the volume not covered by voluntary and living donors, at the "
         "ceiling on organs per executed person (the most generous reading) and at the posterior "
         "yield (medians, 90% intervals), beside the estimated executions; published estimates as "
         "points (ranges as bars), recorded minimums as triangles. Years with prisoners declared.",
         arithmetic_charts.plot_executions_required, (summary["executions_required"], name), {}),
        ("charts", "capacity_gap", "Organs not explained even at the declared sources' maximum",
         "max(0, volume − (executions × ceiling + voluntary donors × organs per donor + living)), by "
         "year: median, 50% and 90% intervals.",
         arithmetic_charts.plot_capacity_gap, (summary["capacity_gap_by_year"], name), {}),
    ]
    for target in PREDICTIVE_TARGETS:
        if len(pt) and target in set(pt["target"]):
            plans.append(("predictive", f"predictive_{target}", TARGET_TITLES[target],
                          "Published figures (points, bounds, ranges) against their posterior predictive "
                          "90% interval.", charts.plot_predictive_target, (pt, target, name, publishers), {}))
    if len(summary["loo"]):
        plans.append(("criticism", "criticism", "LOO-PIT and Pareto k",
                      "Left: leave-one-out PIT of each published point figure (uniform if the predictions "
                      "are calibrated). Right: Pareto k of each claim; above 0.7 the fit leans on the claim "
                      "alone.", criticism_section.plot_criticism, (summary["loo"], name), {}))
    plans += [
        ("diagnostics", "diagnostics", "R-hat and effective sample size",
         "Every parameter, yearly gap and period sum against the gate's limits.",
         charts.plot_diagnostics, (diag, limits, name), {}),
        ("diagnostics", "trace", "Trace plots", "Scalar parameters, one colour per chain.",
         charts.plot_trace, (once(charts.trace_dataset, idata), name), {}),
        ("diagnostics", "rank", "Rank plots", "Scalar parameters and period sums of the gap; flat = chains agree.",
         charts.plot_rank, (once(charts.rank_dataset, idata, periods), periods, name), {}),
    ]
    reused = []
    for section, key, title, caption, fn, args, kwargs in plans:
        with steps.step(f"chart {key}"):
            if chart_cache.render(staging / "figures" / key, fn, *args, label=status.label, **kwargs):
                reused.append(key)
        figures[section].append(FigureRef(key, title, caption, staging / "figures" / f"{key}.png",
                                     {"PNG": f"figures/{key}.png", "SVG": f"figures/{key}.svg"}))

    with steps.step("interactive charts"):
        inter = once(interactive.report_divs, declared, vol_obs, gby, name, publishers, status.label)
    if forensics is not None and forensics.available:  # forensic charts beside the others, in figures/
        present = [(png, cap) for png, cap in forensics.charts if Path(png).is_file()]
        for png, _ in present:
            shutil.copyfile(png, staging / "figures" / png.name)
        forensics.charts = [(staging / "figures" / png.name, cap) for png, cap in present]
    with steps.step("datapackage.json"):
        from analysis.report.datapackage import write_datapackage

        extra = {}
        if forensics is not None and forensics.out_dir is not None and Path(forensics.out_dir).is_dir():
            rel = os.path.relpath(Path(forensics.out_dir).resolve(), out_dir.resolve())
            if not rel.startswith(".."):
                extra[rel] = Path(forensics.out_dir)
        write_datapackage(staging, name, extra)
    # every file of the report folder (idata.nc and the fit's tables included); index.html is added
    # once rendered (the page shows the manifest, so it cannot list its own hash), manifest.json never
    report_files = {str(p.relative_to(staging)): sha256_file(p)
                    for p in sorted(staging.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    fit_timings = manifest.pop("timings", {})
    manifest["timings"] = {**timings, "fit": fit_timings, "report_steps": dict(steps.timings),
                           "charts_from_cache": reused,  # the rest were drawn (analysis.report.chart_cache)
                           "tables_from_cache": memo_hits,  # the rest were computed (analysis.report.memo)
                           "report_s": round(time.perf_counter() - t_start, 2)}
    forensics_rel = None
    if forensics is not None and forensics.out_dir is not None:
        forensics_rel = os.path.relpath(Path(forensics.out_dir).resolve(), out_dir.resolve())
    manifest["report"] = {
        "files": report_files,
        "fit_files": FIT_FILES,
        "forensics": {"dir": forensics_rel, "available": bool(forensics and forensics.available),
                      "messages": forensics.messages if forensics else ["not run"],
                      "manifest": forensics_manifest or (forensics.manifest if forensics else {})},
    }
    table_links = [(f, d) for f, d in [("gap_by_year.csv", "gap and its parts by year"),
                                       ("gap_by_period.csv", "gap summed over each period (headline)"),
                                       ("capacity_gap_by_year.csv", "organs not explained even at the "
                                        "declared sources' maximum, by year"),
                                       ("executions_required.csv", "executions needed vs estimated, by year"),
                                       ("composition_test.csv", "official share statements tested against "
                                        "the counts"),
                                       ("evidence_tested.csv", "the share statements tested"),
                                       ("evidence_used.csv", "likelihood rows"),
                                       ("evidence_excluded.csv", "observations left out, with the reason"),
                                       ("loo_claims.csv", "PSIS-LOO per claim: log density, Pareto k, LOO-PIT"),
                                       ("loo_pit_histogram.csv", "LOO-PIT histogram of the point figures")]]
    table_links += [(f"tables/{f}", d) for f, (_, d) in tables.items()]
    table_links += [("datapackage.json", "data dictionary: every CSV above, every column with its unit")]
    what = {"data/observations.csv": "the ingested observations the fit used",
            "data/manifest.json": "the ingest manifest (raw-file hashes)",
            "benchmarks/sbc.json": "the calibration benchmark result cited in the headline"}
    table_links += [(h, "copied into the report: " + what.get(h, h)) for h in copied.values()]
    page = Page(
        scenario=name, scenario_hash=sc.hash, description=" ".join(sc.get("description").split()),
        manifest=manifest, headline=summary["gap_by_period"], diagnostics=summary["diagnostics"],
        figures=figures, assumptions=assumptions(sc), scenario_settings=settings, flags=flags,
        excluded_reasons=reasons, sources=src, diagnostics_table=diag, predictive_by_series=by_series,
        tables=table_links, forensics=forensics,
        forensics_href=(forensics_rel + "/") if forensics_rel else None,
        sensitivity_html=_sensitivity_html(out_dir.parent / "sensitivity" / name),
        replication_html=_replication_html(out_dir.parent / "replication"),
        headline_sentence=statements.headline_sentence(summary["gap_by_period"], name), status=status,
        calibration=statements.calibration_statement(bench / "sbc.json" if bench else None),
        interactive=inter, composition=summary["composition_test"], origin_weights=weights,
        criticism_html=criticism_section.html(summary["loo"], leave_out,
                                              "".join(figure(f) for f in figures["criticism"])))
    with steps.step("index.html"):
        (staging / "index.html").write_text(render(page), encoding="utf-8")
        report_files["index.html"] = sha256_file(staging / "index.html")
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return manifest
