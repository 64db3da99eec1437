"""Real sampling: the model recovers a known gap from data simulated by its own generative process.

20 datasets (prior draws of the baseline scenario, published in the structure of the shipped
data, censored rows with thresholds independent of the draw), one compiled model, small draws. The 90% interval of the yearly gap should cover the
truth in 80-97% of dataset-years; the measured coverage is printed.
"""

from __future__ import annotations

import pytest

from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.scenarios import load_scenario
from analysis.validation.recovery import covered, recovery_run
from tests.conftest import REPO

N_DATASETS = 20


@pytest.mark.slow
def test_gap_interval_coverage_on_simulated_data():
    obs = tidy_observations(validate(REPO / "data" / "raw"))
    scenario = load_scenario("baseline")
    table, info = recovery_run(obs, scenario, n_datasets=N_DATASETS, seed=7, chains=2, tune=300, draws=200)
    cov90, cov50 = covered(table, 0.9).mean(), covered(table, 0.5).mean()
    print(f"\nrecovery: {N_DATASETS} datasets x {table['year'].nunique()} years; "
          f"90% interval coverage {cov90:.3f}, 50% coverage {cov50:.3f}; {info}")
    assert table["dataset"].nunique() == N_DATASETS
    assert 0.80 <= cov90 <= 0.97
    assert 0.30 <= cov50 <= 0.70
