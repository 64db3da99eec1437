"""Simulation-based calibration of the yearly gap (not a test: writes benchmarks/results/sbc.json).

    .venv/bin/python benchmarks/sbc.py --datasets 60 --seed 101

For each dataset (a prior draw of the scenario, published in the structure of data/raw) the rank of
the true gap among the posterior draws is recorded per year; under a calibrated model the ranks are
uniform. Reports 50%/90% interval coverage, a chi-square test of rank uniformity (10 bins, all
dataset-years pooled) and timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.runtime import configure  # noqa: E402

configure()

from analysis.data.check import validate  # noqa: E402
from analysis.data.ingest import tidy_observations  # noqa: E402
from analysis.scenarios import load_scenario  # noqa: E402
from analysis.validation.recovery import covered, recovery_run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=60)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--tune", type=int, default=400)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sbc.json")
    a = ap.parse_args()
    t0 = time.perf_counter()
    obs = tidy_observations(validate(ROOT / "data" / "raw"))
    table, info = recovery_run(obs, load_scenario(a.scenario), a.datasets, a.seed, chains=2,
                               tune=a.tune, draws=a.draws, thin_to=199)
    bins = np.histogram(table["rank"], bins=10, range=(0, 200))[0]
    chi2 = stats.chisquare(bins)
    result = {
        "scenario": a.scenario, "datasets": a.datasets, "seed": a.seed, "draws": a.draws, "tune": a.tune,
        "dataset_years": int(len(table)),
        "coverage_90": round(float(covered(table, 0.9).mean()), 4),
        "coverage_50": round(float(covered(table, 0.5).mean()), 4),
        "rank_histogram_10_bins": bins.tolist(),
        "rank_uniformity_chi2": round(float(chi2.statistic), 2), "rank_uniformity_p": round(float(chi2.pvalue), 4),
        "coverage_90_by_year": covered(table, 0.9).groupby(table["year"]).mean().round(3).to_dict(),
        "info": info, "wall_s": round(time.perf_counter() - t0, 1),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "coverage_90_by_year"}, indent=2, default=str))


if __name__ == "__main__":
    main()
