"""`tgap report` cold, then again with nothing changed (not a test: writes benchmarks/results/report.json).

    .venv/bin/python benchmarks/report_cached.py [--scenario baseline] [--quick]

Both runs are fresh processes on a frozen copy of the code and data (a temp directory; the fit
cache key includes a hash of the package's code, so edits made meanwhile in the checkout would
otherwise force a refit). The cold run gets an empty fit cache (TGAP_CACHE_DIR pointing at a new
temp directory), so it compiles and samples; the second run, with the same cache and nothing
changed, loads the fit. PyTensor's compile cache stays the project's (.cache/pytensor) unless
--fresh-compile-cache is given. Reports go to the temp directory, not reports/.
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
PYTHON = ROOT / ".venv" / "bin" / "python"
GODT = ROOT.parent / "shared" / "data" / "godt"


def run(args: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}")
    return seconds, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--quick", action="store_true", help="tgap report --quick (small draws)")
    ap.add_argument("--fresh-compile-cache", action="store_true",
                    help="also start PyTensor's compile cache empty (closest to a fresh clone)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "report.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tgap-bench-") as tmp:
        tmp = Path(tmp)
        snap = tmp / "snapshot"
        shutil.copytree(ROOT / "analysis", snap / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "data" / "raw", snap / "data" / "raw")
        env = dict(os.environ, TGAP_CACHE_DIR=str(tmp / "cache"), MPLBACKEND="Agg", PYTHONPATH=str(snap))
        if not a.fresh_compile_cache:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={ROOT / '.cache' / 'pytensor'}"
        args = [str(PYTHON), "-m", "analysis.cli", "report", "--scenario", a.scenario,
                "--out", str(tmp / "report"), "--forensics-out", str(tmp / "forensics"),
                "--godt-dir", str(GODT)]
        if a.quick:
            args.append("--quick")
        cold_s, cold_out = run(args, env, snap)
        cold = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
        cached_s, cached_out = run(args, env, snap)
        cached = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    result = {
        "scenario": a.scenario, "quick": a.quick, "fresh_compile_cache": a.fresh_compile_cache,
        "sampler": cold["sampler"],
        "cold": {"wall_s": round(cold_s, 1), "from_cache": cold["from_cache"], "timings": cold["timings"]},
        "cached": {"wall_s": round(cached_s, 1), "from_cache": cached["from_cache"],
                   "timings": cached["timings"]},
        "cached_over_cold": round(cached_s / cold_s, 3),
        "same_fit_key": cold["fit_key"] == cached["fit_key"],
        "headline_cold": cold_out.strip().splitlines()[-5:],
        "code_version": git,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = a.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_out, a.out)
    print(json.dumps({k: result[k] for k in ("cold", "cached", "cached_over_cold")}, indent=2))


if __name__ == "__main__":
    main()
