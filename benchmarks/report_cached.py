"""`tgap report` cold, then again with nothing changed (not a test: writes benchmarks/results/report.json).

    .venv/bin/python benchmarks/report_cached.py [--scenario baseline] [--quick] [--cached-runs N]
        [--code-dir DIR] [--compile-cache DIR] [--out FILE]

Both runs are fresh processes on a frozen copy of the code and data (a temp directory; the fit
cache key includes a hash of the package's code, so edits made meanwhile in the checkout would
otherwise force a refit). The cold run gets an empty cache (TGAP_CACHE_DIR pointing at a new
temp directory: fits, leave-one-origin-out refits, charts), so it compiles and samples; each of the
``--cached-runs`` later runs, with the same cache and nothing changed, loads the fit. PyTensor's
compile cache stays the project's (.cache/pytensor, or ``--compile-cache``) unless
--fresh-compile-cache is given. Reports go to the temp directory, not reports/.

``--code-dir`` snapshots another checkout's ``analysis/`` (e.g. main's, exported with
``git archive main analysis | tar -x -C DIR``), so two arms run with one benchmark script. Every
run records the load averages (``os.getloadavg``) before and after it, its wall time, the
report's own phase timings (manifest ``timings``) and the rest (process start, imports).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)  # the interpreter running this script (the project venv)
GODT = ROOT.parent / "shared" / "data" / "godt"
PHASES = ("ingest_s", "fit_s", "forensics_s", "leave_out_s", "report_s")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(args: list[str], env: dict, cwd: Path) -> tuple[float, str, list[float]]:
    load = _load()
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}")
    return seconds, proc.stdout, load


def _record(seconds: float, manifest: dict, load_before: list[float]) -> dict:
    t = manifest["timings"]
    phases = {k: t[k] for k in PHASES if k in t}
    return {"wall_s": round(seconds, 2), "from_cache": manifest["from_cache"],
            "phases_s": phases, "rest_s (process start, imports, between phases)":
                round(seconds - sum(phases.values()), 2),
            "load_avg_before": load_before, "load_avg_after": _load(), "timings": t}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--quick", action="store_true", help="tgap report --quick (small draws)")
    ap.add_argument("--cached-runs", type=int, default=1, help="cached runs after the cold one")
    ap.add_argument("--code-dir", type=Path, default=ROOT,
                    help="checkout whose analysis/ is measured (default: this one)")
    ap.add_argument("--compile-cache", type=Path, default=ROOT / ".cache" / "pytensor",
                    help="PyTensor compile cache (base_compiledir) the runs use")
    ap.add_argument("--fresh-compile-cache", action="store_true",
                    help="also start PyTensor's compile cache empty (closest to a fresh clone)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "report.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tgap-bench-") as tmp:
        tmp = Path(tmp)
        snap = tmp / "snapshot"
        shutil.copytree(Path(a.code_dir) / "analysis", snap / "analysis",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "data" / "raw", snap / "data" / "raw")
        env = dict(os.environ, TGAP_CACHE_DIR=str(tmp / "cache"), MPLBACKEND="Agg", PYTHONPATH=str(snap))
        if not a.fresh_compile_cache:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={a.compile_cache}"
        args = [str(PYTHON), "-m", "analysis.cli", "report", "--scenario", a.scenario,
                "--out", str(tmp / "report"), "--forensics-out", str(tmp / "forensics"),
                "--godt-dir", str(GODT)]
        if a.quick:
            args.append("--quick")
        cold_s, cold_out, load = run(args, env, snap)
        cold = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
        cold_rec = _record(cold_s, cold, load)
        cached_recs, cached = [], None
        for _ in range(a.cached_runs):
            s, _out, load = run(args, env, snap)
            cached = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
            cached_recs.append(_record(s, cached, load))
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=a.code_dir, capture_output=True,
                         text=True).stdout.strip()
    walls = [r["wall_s"] for r in cached_recs]
    result = {
        "scenario": a.scenario, "quick": a.quick, "fresh_compile_cache": a.fresh_compile_cache,
        "code_dir": str(a.code_dir), "sampler": cold["sampler"],
        "cold": cold_rec,
        "cached": cached_recs[-1] if cached_recs else None,
        "cached_runs": cached_recs,
        "cached_wall_s": {"min": min(walls), "median": sorted(walls)[len(walls) // 2], "max": max(walls)}
        if walls else None,
        "cached_over_cold": round(min(walls) / cold_s, 3) if walls else None,
        "same_fit_key": bool(cached) and cold["fit_key"] == cached["fit_key"],
        "headline_cold": cold_out.strip().splitlines()[-5:],
        "code_version": git,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_end": _load()},
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = a.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_out, a.out)
    print(json.dumps({k: result[k] for k in ("cached_wall_s", "cached_over_cold")}
                     | {"cold_wall_s": cold_rec["wall_s"],
                        "cached": [{k: r[k] for k in ("wall_s", "phases_s", "load_avg_before")}
                                   for r in cached_recs]}, indent=2))


if __name__ == "__main__":
    main()
