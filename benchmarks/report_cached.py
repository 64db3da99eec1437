"""`tgap report` cold, then again with nothing changed (not a test: writes benchmarks/results/report.json).

    .venv/bin/python benchmarks/report_cached.py [--scenario baseline] [--quick] [--cached-runs N]
        [--arm NAME=DIR ...] [--compile-cache DIR] [--out FILE]

Both runs are fresh processes on a frozen copy of the code and data (a temp directory; the fit
cache key includes a hash of the package's code, so edits made meanwhile in the checkout would
otherwise force a refit). The cold run gets an empty cache (TGAP_CACHE_DIR pointing at a new
temp directory: fits, leave-one-origin-out refits, charts), so it compiles and samples; each of the
``--cached-runs`` later runs, with the same cache and nothing changed, loads the fit. PyTensor's
compile cache stays the project's (.cache/pytensor, or ``--compile-cache``) unless
--fresh-compile-cache is given. Reports go to the temp directory, not reports/.

``--arm NAME=DIR`` (repeatable) measures another checkout's ``analysis/`` (e.g. main's, exported
with ``git archive main analysis | tar -x -C DIR``): each arm gets its own snapshot and cache, the
cold runs come first and the cached runs then alternate between the arms (before, after, before,
after, ...), so the two arms' cached runs see the same load on a shared machine. Every run records the load averages (``os.getloadavg``) before and after it, its wall time, the
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


def _arm_args(a, tmp: Path) -> list[str]:
    args = [str(PYTHON), "-m", "analysis.cli", "report", "--scenario", a.scenario,
            "--out", str(tmp / "report"), "--forensics-out", str(tmp / "forensics"),
            "--godt-dir", str(GODT)]
    return args + (["--quick"] if a.quick else [])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--quick", action="store_true", help="tgap report --quick (small draws)")
    ap.add_argument("--cached-runs", type=int, default=1, help="cached runs per arm after the cold ones")
    ap.add_argument("--arm", action="append", default=[], metavar="NAME=DIR",
                    help="an arm: the analysis/ of checkout DIR (repeatable; default: this checkout). "
                    "Every arm's cold run comes first, then the cached runs alternate between the arms, "
                    "so each pair runs under the same load")
    ap.add_argument("--compile-cache", type=Path, default=ROOT / ".cache" / "pytensor",
                    help="PyTensor compile cache (base_compiledir) the runs use")
    ap.add_argument("--fresh-compile-cache", action="store_true",
                    help="also start PyTensor's compile cache empty (closest to a fresh clone)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "report.json")
    a = ap.parse_args()
    arms = dict(x.split("=", 1) for x in a.arm) if a.arm else {"this": str(ROOT)}
    result = {"scenario": a.scenario, "quick": a.quick, "fresh_compile_cache": a.fresh_compile_cache,
              "cached_runs_per_arm": a.cached_runs, "arms": {}}
    with tempfile.TemporaryDirectory(prefix="tgap-bench-") as top:
        setups = {}
        for name, code_dir in arms.items():
            tmp = Path(top) / name
            snap = tmp / "snapshot"
            shutil.copytree(Path(code_dir) / "analysis", snap / "analysis",
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copytree(ROOT / "data" / "raw", snap / "data" / "raw")
            env = dict(os.environ, TGAP_CACHE_DIR=str(tmp / "cache"), MPLBACKEND="Agg", PYTHONPATH=str(snap))
            if not a.fresh_compile_cache:
                env["PYTENSOR_FLAGS"] = f"base_compiledir={a.compile_cache}"
            git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=code_dir, capture_output=True,
                                 text=True).stdout.strip()
            setups[name] = (tmp, snap, env)
            result["arms"][name] = {"code_dir": str(code_dir), "code_version": git or None, "cached_runs": []}
        for name, (tmp, snap, env) in setups.items():  # cold runs first, one after another
            s, out, load = run(_arm_args(a, tmp), env, snap)
            m = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
            result["arms"][name] |= {"sampler": m["sampler"], "fit_key": m["fit_key"], "cold": _record(s, m, load),
                                     "headline_cold": out.strip().splitlines()[-5:]}
            print(f"{name}: cold {s:.1f} s", file=sys.stderr, flush=True)
        for i in range(a.cached_runs):  # then cached runs, alternating between the arms
            for name, (tmp, snap, env) in setups.items():
                s, _out, load = run(_arm_args(a, tmp), env, snap)
                m = json.loads((tmp / "report" / "manifest.json").read_text(encoding="utf-8"))
                rec = _record(s, m, load)
                rec["same_fit_key"] = m["fit_key"] == result["arms"][name]["fit_key"]
                result["arms"][name]["cached_runs"].append(rec)
                print(f"{name}: cached run {i + 1} {s:.1f} s (load {load})", file=sys.stderr, flush=True)
    for arm in result["arms"].values():
        walls = sorted(r["wall_s"] for r in arm["cached_runs"])
        if walls:
            arm["cached_wall_s"] = {"min": walls[0], "median": walls[len(walls) // 2], "max": walls[-1]}
            arm["cached_over_cold"] = round(walls[0] / arm["cold"]["wall_s"], 3)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_end": _load()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = a.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_out, a.out)
    print(json.dumps({name: {"cold_wall_s": arm["cold"]["wall_s"], "cached_wall_s": arm.get("cached_wall_s"),
                             "cached": [{k: r[k] for k in ("wall_s", "phases_s", "load_avg_before")}
                                        for r in arm["cached_runs"]]}
                      for name, arm in result["arms"].items()}, indent=2))


if __name__ == "__main__":
    main()
