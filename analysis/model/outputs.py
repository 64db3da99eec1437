"""Write a fit's outputs: idata.nc, gap tables, evidence used/excluded, manifest.json.

All files are first written to temporary names in the output directory and renamed into place
only when every one of them is ready; manifest.json (the sha256 of every other file) is removed
before the first rename and written last, so a folder whose manifest matches its files is one
whole run (``analysis.io.generation_problems``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from analysis import __version__
from analysis.io import (
    MANIFEST,
    code_version,
    commit_files,
    csv_text,
    remove_leftovers,
    sha256_file,
    stage_text,
    temp_path_beside,
)
from analysis.model import criticism
from analysis.model.arithmetic import capacity_gap_by_year, composition_test, executions_required
from analysis.model.cache import strip_volatile
from analysis.model.fit import FitResult
from analysis.model.reviewer import error_override_records
from analysis.model.summarize import (
    diagnostics,
    gap_by_period,
    gap_by_year,
    periods_resolved,
)


def summarize_fit(result: FitResult) -> dict:
    sc = result.scenario
    ev = result.evidence
    periods = periods_resolved(sc.get("years.periods"), ev.years)
    c_max = float(sc.get("supply.max_organs_per_executed"))
    mask = ev.years <= int(sc.get("declared.prisoner_source_until"))
    return {
        "gap_by_year": gap_by_year(result.idata),
        "gap_by_period": gap_by_period(result.idata, periods),
        "capacity_gap_by_year": capacity_gap_by_year(result.idata, c_max, mask),
        "executions_required": executions_required(result.idata, ev, c_max, mask),
        "composition_test": composition_test(result.idata, ev, c_max),
        "diagnostics": diagnostics(result.idata, periods, sc.get("diagnostics")),
        "loo": criticism.loo_table(result.idata, ev),
        "periods": periods,
    }


def _csv_text(frame) -> str:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            rate = (col.startswith("p_") or col in ("lo", "hi") or "share" in col or "organs_per" in col
                    or col in criticism.RATE_COLUMNS)
            out[col] = out[col].round(4 if rate else 1)
    return csv_text(out)


def write_fit_outputs(result: FitResult, out_dir: Path, inputs: dict, summary: dict | None = None) -> dict:
    """Write everything for one fit into out_dir; return the manifest. ``summary``: the fit's
    ``summarize_fit``, when the caller has it already (a cached report reads it back)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize_fit(result) if summary is None else summary
    ev = result.evidence
    manifest = {
        "tgap_version": __version__,
        "code_version": code_version(),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": {"name": result.scenario.name, "hash": result.scenario.hash,
                     "files": [str(p) for p in result.scenario.files]},
        "inputs": inputs,
        "sampler": result.settings.as_dict(),
        "seed": result.settings.seed,
        "fit_key": result.key,
        "from_cache": result.from_cache,
        "timings": result.timings,
        "diagnostics": summary["diagnostics"],
        "years": [int(ev.years.min()), int(ev.years.max())],
        "periods": [list(p) for p in summary["periods"]],
        "evidence": {"rows_used": int(len(ev.rows)), "rows_excluded": int(len(ev.excluded)),
                     "share_statements_tested": int(len(ev.tested))},
        "criticism": criticism.summary(summary["loo"]),
        # rows the scenario re-reads (key overrides) and declared sources it sizes (key fixed_supply)
        "row_overrides": ev.overrides.astype(str).to_dict("records") if len(ev.overrides) else [],
        "fixed_supply": dict(result.scenario.data.get("fixed_supply", {})),
        # series / origins with their own bias or noise (keys evidence.series_overrides,
        # evidence.origin_overrides) and the likelihood rows that use it
        "error_overrides": error_override_records(ev, result.scenario),
    }
    texts = {
        "gap_by_year.csv": _csv_text(summary["gap_by_year"]),
        "gap_by_period.csv": _csv_text(summary["gap_by_period"]),
        "capacity_gap_by_year.csv": _csv_text(summary["capacity_gap_by_year"]),
        "executions_required.csv": _csv_text(summary["executions_required"]),
        "composition_test.csv": _csv_text(summary["composition_test"]),
        "evidence_tested.csv": _csv_text(ev.tested),
        "loo_claims.csv": _csv_text(summary["loo"]),
        "loo_pit_histogram.csv": _csv_text(criticism.pit_histogram(summary["loo"])),
        "evidence_used.csv": _csv_text(ev.rows),
        "evidence_excluded.csv": _csv_text(ev.excluded),
    }
    # everything is prepared under temp names first; then the old manifest.json goes, the files
    # are renamed into place and the new manifest.json (with the sha256 of every file) comes
    # last: a run killed while renaming leaves no manifest, never a mix that a manifest vouches
    # for (analysis.io.generation_problems)
    remove_leftovers(out_dir)
    staged = []
    try:
        nc_tmp = temp_path_beside(out_dir / "idata.nc")
        staged.append((nc_tmp, out_dir / "idata.nc"))
        if result.path is not None and Path(result.path).exists():
            shutil.copyfile(result.path, nc_tmp)  # the cached file is this idata, already serialized
        else:
            strip_volatile(result.idata)
            result.idata.to_netcdf(nc_tmp)
        for name, text in texts.items():
            staged.append((stage_text(out_dir / name, text), out_dir / name))
        manifest["files"] = {target.name: sha256_file(tmp) for tmp, target in staged}
        staged.append((stage_text(out_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str)
                                  + "\n"), out_dir / MANIFEST))
        (out_dir / MANIFEST).unlink(missing_ok=True)
        commit_files(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    manifest["summary"] = summary
    return manifest


