"""Sweep speed: compile once and swap inputs vs rebuild and recompile per setting (not a test).

    .venv/bin/python benchmarks/sweep_speed.py [--settings 20] [--naive 5] [--quick]

Settings vary the prior median of organs per executed person (supply.organs_per_executed.mu), a
numeric assumption, so all settings share one model structure. Both arms run in one fresh process
each, one after the other, with the same settings and seeds; the naive arm clears the in-process
model cache before every fit (what a sweep without compile-once does). Disk compile caches are
warm for both (a first fit is run before timing). Writes benchmarks/results/sweep_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def arm(naive: bool, n: int, quick: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from analysis.runtime import configure

    configure()
    import analysis.model.fit as fit
    from analysis.cli_support import (
        ensure_observations,  # ingests when data/derived is stale or missing
    )
    from analysis.scenarios import load_scenario

    obs = ensure_observations(ROOT / "data" / "raw", ROOT / "data" / "derived")
    base = load_scenario("baseline")
    settings = fit.SamplerSettings.from_scenario(base, quick=quick)
    fit.run_fit(obs, base, settings, use_cache=False)  # warm the disk caches, not timed
    per, medians = [], []
    for mu in np.linspace(0.3, 1.2, n):
        if naive:
            fit._COMPILED.clear()
        sc = base.with_overrides({"supply.organs_per_executed.mu": float(mu)})
        t0 = time.perf_counter()
        res = fit.run_fit(obs, sc, settings, use_cache=False)
        per.append(time.perf_counter() - t0)
        medians.append(float(res.idata.posterior["gap"].sel(year=slice(2000, 2005)).sum("year").median()))
    return {"naive": naive, "settings": n, "seconds_per_setting": round(float(np.mean(per)), 2),
            "seconds": [round(x, 2) for x in per], "gap_2000_2005_median": [round(m) for m in medians],
            "sampler": settings.as_dict()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settings", type=int, default=20)
    ap.add_argument("--naive", type=int, default=5, help="settings in the naive arm (each recompiles)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--arm", choices=["once", "naive"])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sweep_speed.json")
    a = ap.parse_args()
    if a.arm:
        print(json.dumps(arm(a.arm == "naive", a.settings, a.quick)))
        return
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "command": " ".join(sys.argv), "quick": a.quick}
    for name, n in (("compile_once", a.settings), ("naive_rebuild", a.naive)):
        cmd = [sys.executable, __file__, "--arm", "once" if name == "compile_once" else "naive",
               "--settings", str(n)] + (["--quick"] if a.quick else [])
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            raise RuntimeError(out.stderr[-3000:])
        result[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(name, result[name]["seconds_per_setting"], "s/setting", flush=True)
    result["speedup"] = round(result["naive_rebuild"]["seconds_per_setting"]
                              / result["compile_once"]["seconds_per_setting"], 1)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print("speedup", result["speedup"])


if __name__ == "__main__":
    main()
