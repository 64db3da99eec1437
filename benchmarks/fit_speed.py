"""Fit speed per sampler: cold, warm disk caches, warm process (not a test).

    .venv/bin/python benchmarks/fit_speed.py [--samplers nutpie,nutpie-jax,pymc] [--quick] [--fits 2]

For each sampler, in fresh subprocesses with an empty cache directory (TGAP_CACHE_DIR):
  cold          first fit in a fresh process, empty compile caches on disk
  warm_disk     first fit in a fresh process, disk caches left by the cold run
  warm_process  a second fit in the same process (another seed, so the fit cache is not used)
Each records wall time, the sampler's own timings (compile / mode search / NUTS), min bulk ESS of
the yearly gap, ESS per second of wall time, divergences, the diagnostics gate (the scenario's
limits, over yearly and period gaps), the gap-by-period medians and the process's peak RSS.
The samplers run one after another in the same invocation (same machine state, side by side).
Writes benchmarks/results/fit_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(sampler: str, quick: bool, fits: int, seed: int) -> None:
    """Run `fits` baseline fits in this process; print one JSON line per fit."""
    sys.path.insert(0, str(ROOT))
    t_import = time.perf_counter()
    from analysis.runtime import configure

    configure()
    import arviz as az

    from analysis.cli_support import (
        ensure_observations,  # ingests when data/derived is stale or missing
    )
    from analysis.model.fit import SamplerSettings, run_fit
    from analysis.model.summarize import diagnostics, gap_by_period, periods_resolved
    from analysis.scenarios import load_scenario

    obs = ensure_observations(ROOT / "data" / "raw", ROOT / "data" / "derived")
    sc = load_scenario("baseline")
    import_s = time.perf_counter() - t_import
    for i in range(fits):
        settings = SamplerSettings.from_scenario(sc, quick=quick, name=sampler, seed=seed + i)
        t0 = time.perf_counter()
        res = run_fit(obs, sc, settings, use_cache=False)
        wall = time.perf_counter() - t0
        ess = float(az.ess(res.idata, var_names=["gap"])["gap"].min())
        periods = periods_resolved(sc.get("years.periods"), res.evidence.years)
        by_period = gap_by_period(res.idata, periods)
        gate = diagnostics(res.idata, periods, sc.get("diagnostics"))
        print(json.dumps({
            "fit": i, "wall_s": round(wall, 2), "import_s": round(import_s, 2) if i == 0 else 0.0,
            "timings": res.timings, "min_ess_bulk_gap": round(ess), "ess_per_s": round(ess / wall, 1),
            "divergences": int(res.idata.sample_stats["diverging"].sum()),
            "gate": {k: gate[k] for k in ("passed", "max_rhat", "min_ess_bulk", "min_ess_tail")},
            "gap_by_period": {r.period: {"median": round(r.gap_median), "sd": round(sd)}
                              for r, sd in zip(by_period.itertuples(), _period_sd(res.idata, periods))},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "settings": settings.as_dict()}), flush=True)


def _period_sd(idata, periods) -> list[float]:
    from analysis.model.summarize import period_draws

    return [float(v) for v in period_draws(idata, periods).std(("chain", "draw")).values]


def run_child(sampler: str, quick: bool, fits: int, cache: Path) -> list[dict]:
    env = dict(os.environ, TGAP_CACHE_DIR=str(cache), PYTENSOR_FLAGS=f"base_compiledir={cache / 'pytensor'}",
               NUMBA_CACHE_DIR=str(cache / "numba"), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, __file__, "--child", sampler, "--fits", str(fits)] + (["--quick"] if quick else [])
    print(f"{sampler}: fresh process, {fits} fit(s), cache {cache}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"{sampler}: child failed\n{out.stderr[-3000:]}")
    sys.stderr.write(out.stderr[-2000:])
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    rows[0]["process_wall_s"] = round(time.perf_counter() - t0, 2)
    return rows


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("pymc", "pytensor", "nutpie", "numba", "jax", "jaxlib", "numpyro"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samplers", default="nutpie,pymc")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--fits", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fit_speed.json")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.quick, a.fits, a.seed)
        return
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                          "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]},
              "versions": _versions(),
              "quick": a.quick, "command": " ".join(sys.argv), "samplers": {}}
    for sampler in a.samplers.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            cold = run_child(sampler, a.quick, 2, Path(tmp))
            warm = run_child(sampler, a.quick, 1, Path(tmp))
        result["samplers"][sampler] = {"cold": cold[0], "warm_process": cold[1], "warm_disk": warm[0]}
        print(sampler, json.dumps(result["samplers"][sampler], indent=1), flush=True)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=2) + "\n")  # after each sampler: partial results survive


if __name__ == "__main__":
    main()
