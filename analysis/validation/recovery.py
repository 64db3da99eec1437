"""Simulation-based recovery: fit many synthetic datasets with one compiled model.

Each dataset is one prior draw of the scenario's generative process, published in the structure
of the template data (``analysis.model.simulate``). The model is compiled once (nutpie) and only
the observed arrays change between fits (``with_data``), so 20 fits cost one compilation.
Per dataset-year it records the truth, posterior quantiles of the gap and the rank of the truth
among the posterior draws (for simulation-based calibration).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from analysis.model.build import start_paths
from analysis.model.evidence import build_evidence
from analysis.model.inputs import model_inputs
from analysis.model.simulate import simulate_many
from analysis.model.start import sample_from_mode
from analysis.scenarios import Scenario


def fit_gap_draws(datasets, template_ev, scenario: Scenario, seed: int, chains: int = 2,
                  tune: int = 300, draws: int = 300, thin_to: int | None = None):
    """Fit each (observations, truth) dataset with ONE compiled model (the template evidence's);
    yield (index, truth, gap draws as years x draws, divergences, start kind, seconds).

    Every dataset must keep the template's rows and, for count rows, point vs censored."""
    import nutpie

    from analysis.model.fit import NUTPIE_BACKENDS, ensure_nutpie, finder_key, model_entry

    entry, _ = model_entry(template_ev, scenario)  # shared with run_fit in this process
    # the scenario's nutpie backend (numba or jax); another sampler name falls back to numba nutpie
    name = scenario.get("sampler.name")
    name = name if name in NUTPIE_BACKENDS else "nutpie"
    ensure_nutpie(entry, name)
    compiled, finder = entry[name], entry[finder_key(name)]
    model = finder.model  # the model compiled (for jax a copy with frozen dimensions)
    ids = list(template_ev.rows["obs_id"])
    for i, (obs, truth) in enumerate(datasets):
        ev = build_evidence(obs, scenario, only=ids)
        if list(ev.rows["obs_id"]) != ids:
            raise RuntimeError(f"dataset {i}: simulated evidence rows differ from the template's")
        counts = (ev.rows["likelihood"] == "count").to_numpy()
        if (ev.rows["mode"].to_numpy()[counts] != template_ev.rows["mode"].to_numpy()[counts]).any():
            # point vs censored count rows are fixed in the compiled graph (build.rows_logp)
            raise RuntimeError(f"dataset {i}: a count row changed between point and censored")
        t1 = time.perf_counter()
        idata, start, _ = sample_from_mode(
            nutpie, compiled, model, finder, model_inputs(ev, scenario), start_paths(ev, scenario),
            chains=chains, tune=tune,
            draws=draws, seed=seed + 1000 + i, progress_bar=False,
            low_rank_modified_mass_matrix=scenario.get("sampler.mass_matrix") == "low_rank")
        secs = time.perf_counter() - t1
        gap = idata.posterior["gap"].stack(sample=("chain", "draw")).transpose("gap_dim_0" if "gap_dim_0" in idata.posterior["gap"].dims else "year", "sample").values
        if thin_to:
            gap = gap[:, np.linspace(0, gap.shape[1] - 1, thin_to).astype(int)]
        yield i, truth, gap, int(idata.sample_stats["diverging"].sum()), start, secs


def recovery_run(template: pd.DataFrame, scenario: Scenario, n_datasets: int, seed: int,
                 chains: int = 2, tune: int = 300, draws: int = 300,
                 thin_to: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Return (per dataset-year table, run info)."""
    t0 = time.perf_counter()
    datasets, _, template_ev = simulate_many(template, scenario, seed, n_datasets)
    fits = fit_gap_draws(datasets, template_ev, scenario, seed, chains, tune, draws, thin_to)
    t_compile = None
    rows, per_fit, starts = [], [], []
    for i, truth, gap, div, start, secs in fits:
        if t_compile is None:  # compilation happens before the first fit
            t_compile = time.perf_counter() - t0 - secs
        starts.append(start)
        per_fit.append(secs)
        q = np.quantile(gap, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
        for j, year in enumerate(truth["year"]):
            g = truth["gap"].iloc[j]
            rows.append({"dataset": i, "year": int(year), "truth": g, "q05": q[0, j], "q25": q[1, j],
                         "median": q[2, j], "q75": q[3, j], "q95": q[4, j],
                         "rank": int((gap[j] < g).sum()), "n_draws": gap.shape[1], "divergences": div})
    table = pd.DataFrame(rows)
    info = {"n_datasets": n_datasets, "seed": seed, "chains": chains, "tune": tune, "draws": draws,
            "compile_and_simulate_s": round(t_compile or 0.0, 1), "fit_s_mean": round(float(np.mean(per_fit)), 2),
            "coverage_90": float(covered(table, 0.9).mean()), "coverage_50": float(covered(table, 0.5).mean()),
            "jittered_starts": starts.count("jittered"),
            "divergent_datasets": int((table.groupby("dataset")["divergences"].first() > 0).sum())}
    return table, info


def covered(table: pd.DataFrame, level: float) -> pd.Series:
    lo, hi = {0.9: ("q05", "q95"), 0.5: ("q25", "q75")}[level]
    return (table["truth"] >= table[lo]) & (table["truth"] <= table[hi])
