"""Prior and likelihood sensitivity of one fit without refitting: power-scaling diagnostics.

Kallioinen et al. (2023), "Detecting and diagnosing prior and likelihood sensitivity with
power-scaling", implemented by ArviZ as ``arviz.psens`` (0.23; ``psense`` in arviz-stats). The
posterior is reweighted by Pareto-smoothed importance sampling as if the prior (or likelihood)
were raised to a power 1 +- delta; the diagnostic is the resulting change of each posterior
quantity's distribution (cumulative Jensen-Shannon distance per unit log-power). Values >= 0.05
mean the quantity moves noticeably. ArviZ needs a ``log_prior`` group, which fits do not store:
it is computed here from the posterior draws with ``pymc.compute_log_prior`` on the model rebuilt
for the fit's scenario and evidence. ``log_likelihood`` is stored by ``run_fit``.

Prior components are power-scaled jointly ("all priors") and in groups, so the table says which
block of assumptions the gap leans on:
  supply   share of executed persons used, organs per executed person, per donor, donor inflation
  evidence bias and noise of every evidence class
  latent   random-walk initial values and step sizes of the yearly latent quantities
  mix      organ mix of transplants
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

THRESHOLD = 0.05  # the authors' rule of thumb
SUPPLY = ["share_executed_used", "organs_per_executed", "organs_per_donor", "donor_report_inflation"]
GROUPS = {
    "supply": lambda n: n in SUPPLY,
    "evidence": lambda n: n.startswith(("bias", "noise")),
    "latent": lambda n: n.endswith(("_step", "_init")) or n.startswith("log_"),
    "mix": lambda n: n.startswith("organ_mix"),
}


def log_prior(result) -> xr.Dataset:
    """Pointwise log prior density of every free variable at each posterior draw."""
    import pymc as pm

    from analysis.model.build import build_model

    model = build_model(result.evidence, result.scenario)
    try:  # newer model code keeps scenario numbers as pm.Data: set them to this fit's values
        from analysis.model.inputs import model_inputs

        with model:
            pm.set_data(model_inputs(result.evidence, result.scenario))
    except ImportError:  # pragma: no cover - older model code bakes them in
        pass
    post = result.idata.posterior
    names = [rv.name for rv in model.free_RVs]
    missing = [n for n in names if n not in post]
    if missing:
        raise ValueError(f"posterior lacks free variables {missing}; cannot compute the log prior")
    import arviz as az

    light = az.InferenceData(posterior=post[names])
    out = pm.compute_log_prior(light, model=model, extend_inferencedata=False, progressbar=False)
    return out.log_prior if hasattr(out, "log_prior") else out


def _quantities(result) -> xr.Dataset:
    """The posterior quantities whose sensitivity is reported: period gaps and supply factors."""
    from analysis.model.summarize import period_draws, periods_resolved

    post = result.idata.posterior
    periods = periods_resolved(result.scenario.get("years.periods"), result.evidence.years)
    ds = xr.Dataset({"gap_period": period_draws(result.idata, periods)})
    for name in SUPPLY:
        if name in post:
            ds[name] = post[name]
    return ds


def power_scaling(result, delta: float = 0.01) -> pd.DataFrame:
    """One row per quantity (period gaps, supply factors); one column per power-scaled component,
    plus ``diagnosis`` by the authors' rule (prior and likelihood both >= 0.05: prior-data
    conflict; prior >= 0.05, likelihood < 0.05: strong prior / weak likelihood)."""
    import arviz as az

    lp = log_prior(result)
    quantities = _quantities(result)
    idata = az.InferenceData(posterior=quantities, log_prior=lp,
                             log_likelihood=result.idata.log_likelihood)
    components: dict[str, object] = {"prior_all": ("prior", None)}
    for group, test in GROUPS.items():
        names = [n for n in lp.data_vars if test(n)]
        if names:
            components[f"prior_{group}"] = ("prior", names)
    components["likelihood"] = ("likelihood", None)
    cols = {}
    for col, (component, names) in components.items():
        sens = az.psens(idata, component=component, component_var_names=names, delta=delta)
        cols[col] = _flatten(sens)
    table = pd.DataFrame(cols)
    table.index.name = "quantity"
    table = table.reset_index()
    pa, lk = table["prior_all"], table["likelihood"]
    table["diagnosis"] = np.select(
        [(pa >= THRESHOLD) & (lk >= THRESHOLD), (pa >= THRESHOLD) & (lk < THRESHOLD)],
        ["prior-data conflict", "strong prior / weak likelihood"], default="")
    return table


def _flatten(ds: xr.Dataset) -> pd.Series:
    out = {}
    for name, da in ds.data_vars.items():
        if "period" in da.dims:
            for p in da["period"].values:
                out[f"gap {p}"] = float(da.sel(period=p))
        else:
            out[name] = float(da)
    return pd.Series(out)
