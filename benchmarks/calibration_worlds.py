"""Calibration against other worlds (issue 14; not a test: writes benchmarks/results/calibration_worlds.json).

    .venv/bin/python benchmarks/calibration_worlds.py [--datasets 20] [--worlds official,relays] [--quick]

For each world (analysis/scenarios/worlds/*.toml) N datasets in the shipped rows' structure are
fitted with the baseline scenario, all with ONE compiled model (the data are swapped in,
analysis.validation.recovery.fit_gap_draws). Per world it records, for the yearly gaps and the
period sums (signed gap and organs not explained): 90%/50% interval coverage, the rate of
confident sign errors (P(gap > 0) > 0.95 when the true gap <= 0, < 0.05 when > 0), and power
(share of datasets with P(period gap > 0) > 0.95 by bins of the true period gap)
(analysis.validation.calibration). Timings and the command are stored beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.runtime import configure  # noqa: E402

configure()

from analysis.data.check import validate  # noqa: E402
from analysis.data.ingest import tidy_observations  # noqa: E402
from analysis.io import atomic_write_json  # noqa: E402
from analysis.model.summarize import periods_resolved  # noqa: E402
from analysis.model.worlds import WORLDS, generate, load_world  # noqa: E402
from analysis.scenarios import load_scenario  # noqa: E402
from analysis.validation.calibration import metrics, summaries  # noqa: E402
from analysis.validation.recovery import fit_gap_draws  # noqa: E402


def run_world(name: str, obs, scenario, n: int, seed: int, chains: int, tune: int, draws: int) -> dict:
    t0 = time.perf_counter()
    world = load_world(name)
    datasets, _, template_ev = generate(world, obs, scenario, seed, n)
    periods = periods_resolved(scenario.get("years.periods"), template_ev.years)
    tables, per_fit, div, jittered = [], [], 0, 0
    for i, truth, gap, d, start, secs in fit_gap_draws(datasets, template_ev, scenario, seed,
                                                       chains, tune, draws):
        t = summaries(gap, truth["gap"].to_numpy(), truth["year"].to_numpy(), periods)
        tables.append(t.assign(dataset=i))
        per_fit.append(secs)
        div += int(d > 0)
        jittered += start == "jittered"
        print(f"  {name} dataset {i + 1}/{n}: {secs:.1f} s", file=sys.stderr, flush=True)
    table = pd.concat(tables, ignore_index=True)
    per_period = table[table["kind"] == "period"].round({c: 1 for c in ("truth", "median", "q05", "q25", "q75", "q95")}
                                                       | {"p_positive": 4}).to_dict(orient="records")
    return {"world": name, "file": str(world.file.relative_to(ROOT)), "datasets": n, "seed": seed,
            "metrics": metrics(table), "period_rows": per_period, "divergent_datasets": div, "jittered_starts": jittered,
            "fit_s_mean": round(sum(per_fit) / len(per_fit), 2),
            "wall_s": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=20)
    ap.add_argument("--seed", type=int, default=141)
    ap.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated world names")
    ap.add_argument("--scenario", default="baseline", help="the scenario that fits every world")
    ap.add_argument("--quick", action="store_true", help="the scenario's sampler.quick draws")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "calibration_worlds.json")
    a = ap.parse_args()
    t0 = time.perf_counter()
    scenario = load_scenario(a.scenario)
    sampler = scenario.get("sampler.quick") if a.quick else scenario.get("sampler")
    chains, tune, draws = sampler["chains"], a.tune or sampler["tune"], a.draws or sampler["draws"]
    obs = tidy_observations(validate(ROOT / "data" / "raw"))
    result = {"command": " ".join(["benchmarks/calibration_worlds.py"] + sys.argv[1:]),
              "scenario": a.scenario, "chains": chains, "tune": tune, "draws": draws, "worlds": {}}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    for name in a.worlds.split(","):
        print(f"world {name}", file=sys.stderr, flush=True)
        # a world's seed depends on its name only, so a world's datasets do not change with the
        # order or the selection of --worlds
        seed = a.seed + 1000 * (WORLDS.index(name) if name in WORLDS else 99)
        result["worlds"][name] = run_world(name, obs, scenario, a.datasets, seed, chains, tune, draws)
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        atomic_write_json(a.out, result)  # after every world: a long run's finished worlds are kept
    short = {w: {k: {m: e[m] for m in ("coverage_90", "coverage_50")}
                 for k, e in v["metrics"].items()} for w, v in result["worlds"].items()}
    print(json.dumps({"wall_s": result["wall_s"], "coverage": short}, indent=2))


if __name__ == "__main__":
    main()
