"""Sensitivity sweep on the shipped data: wall time and the range of each period's gap.

    .venv/bin/python benchmarks/sweep_shipped.py [--jobs 1] [--backend local|dask] [--full]

Runs `tgap sensitivity` on the baseline with a full 2^4 grid over four key assumptions (16
settings, base and one-at-a-time points included), quick sampler settings unless --full, writes
tables and charts to reports/sensitivity/baseline/ and a summary to
benchmarks/results/sweep_shipped.json. Timings are measurements, not test assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARY = [
    "supply.organs_per_executed.mu=0.69,1.0",          # median 2.0 -> 2.7 organs per executed person
    "supply.share_executed_used.alpha=2,8",            # Beta(2,2) mean 0.5 -> Beta(8,2) mean 0.8
    "supply.organs_per_donor.mu=1.044,1.25",           # median 2.84 (GODT) -> 3.5 organs per donor
    "evidence.volume.official.bias.mu=0,0.3",          # official volume unbiased -> 35% above true
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--backend", default="local")
    ap.add_argument("--full", action="store_true", help="the scenario's full sampler settings")
    ap.add_argument("--out", default=str(ROOT / "reports" / "sensitivity" / "baseline"))
    args = ap.parse_args()
    os.chdir(ROOT)
    from analysis.runtime import CACHE_DIR, configure

    configure()
    from analysis.cli_support import (
        ensure_observations,  # ingests when data/derived is stale or missing
    )
    from analysis.io import atomic_write_json
    from analysis.scenarios import load_scenario
    from analysis.sensitivity.grid import parse_vary
    from analysis.sensitivity.run import run_sensitivity
    from analysis.sensitivity.sweep import FitJob

    sc = load_scenario("baseline")
    job = FitJob(obs=ensure_observations(ROOT / "data" / "raw", ROOT / "data" / "derived"), base=sc, quick=not args.full,
                 cache_dir=str(CACHE_DIR / "fits"))
    t0 = time.perf_counter()
    manifest = run_sensitivity(job, [parse_vary(v) for v in VARY], Path(args.out), backend=args.backend,
                               jobs=args.jobs)
    wall = time.perf_counter() - t0
    t = manifest["table"]
    ok = t[t["status"] == "ok"]
    per_period = {}
    for period, g in ok.groupby("period", sort=False):
        base = g[g["design"] == "base"]
        per_period[period] = {
            "base_median": round(float(base["gap_median"].iloc[0]), 0) if len(base) else None,
            "lowest_median": round(float(g["gap_median"].min()), 0),
            "highest_median": round(float(g["gap_median"].max()), 0),
            "settings_with_positive_median": int((g["gap_median"] > 0).sum()),
            "base_unexplained_median": round(float(base["unexplained_median"].iloc[0]), 0) if len(base) else None,
            "lowest_unexplained_median": round(float(g["unexplained_median"].min()), 0),
            "highest_unexplained_median": round(float(g["unexplained_median"].max()), 0),
            "settings_gate_passed": int(g["diagnostics_passed"].astype(bool).sum()),
        }
    tornado = manifest["tornado"]
    result = {
        "what": "tgap sensitivity on the shipped data, baseline, full 2^4 grid",
        "vary": VARY, "settings": manifest["settings"], "failed": manifest["failed"],
        "fits_from_cache": manifest["fits_from_cache"], "sampler": manifest["sampler"],
        "backend": args.backend, "jobs": args.jobs, "wall_seconds_sweep": manifest["wall_seconds"],
        "wall_seconds_total": round(wall, 1), "per_period": per_period,
        "largest_swing_per_period": {
            p: g.sort_values("swing", ascending=False)[["key", "swing"]].head(3).round(0).to_dict("records")
            for p, g in tornado.groupby("period", sort=False)} if len(tornado) else {},
        "psense": manifest["psense"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "2 cores shared with other jobs; wall times are indicative",
    }
    out = ROOT / "benchmarks" / "results" / "sweep_shipped.json"
    atomic_write_json(out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
