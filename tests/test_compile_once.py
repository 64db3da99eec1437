"""Compile once, vary data: a model built for one scenario, given another scenario's inputs,
has exactly the log density of a model built for that other scenario.

This is what makes sweeps cheap (one compilation per structure) and it must never silently
keep a number of the first scenario baked into the graph.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model.build import build_model
from analysis.model.evidence import build_evidence
from analysis.model.inputs import model_inputs, structure
from analysis.scenarios import load_scenario
from tests.conftest import REPO

# one override per kind of scenario number that enters the model
NUMERIC_OVERRIDES = {
    "supply.organs_per_executed": {"dist": "LogNormal", "mu": 1.0, "sigma": 0.1},
    "supply.share_executed_used": {"dist": "Beta", "alpha": 5.0, "beta": 1.5},
    "supply.organs_per_donor": {"dist": "LogNormal", "mu": 0.9, "sigma": 0.3},
    "evidence.volume.official.bias": {"dist": "Normal", "mu": 0.2, "sigma": 0.1},
    "evidence.executions.independent.noise": {"dist": "LogNormal", "mu": -1.0, "sigma": 0.2},
    "evidence.rules.lower_bound_softness": 0.2,
    "evidence.shares.noise": 0.3,
    "organ_mix.all.kidney": 10.0,
    "organ_mix.living.liver": 3.0,
    "latent.donors.init": {"dist": "Normal", "mu": 3.0, "sigma": 0.5},
    "latent.executions.step": {"dist": "LogNormal", "mu": -1.0, "sigma": 0.3},
    "evidence.rules.approx_extra_sd": 0.3,
    "evidence.rules.part_extra_sd": 0.4,
    "flags.repeated_value.noise_scale": 3.0,
    "declared.prisoner_source_until": 2016,
    "supply.max_organs_per_executed": 3.5,
    "supply.prisoner_yield_step": {"dist": "LogNormal", "mu": -1.5, "sigma": 0.2},
    "supply.organs_per_donor_step": {"dist": "LogNormal", "mu": -2.0, "sigma": 0.3},
    "evidence.rules.bias_step": {"dist": "LogNormal", "mu": -2.0, "sigma": 0.3},
}


@pytest.fixture(scope="module")
def observations():
    return tidy_observations(validate(REPO / "data" / "raw"))


def _logp_pair(obs, base, other):
    ea, eb = build_evidence(obs, base), build_evidence(obs, other)
    model_a, model_b = build_model(ea, base), build_model(eb, other)
    point = model_b.initial_point()
    point = {k: v + 0.1 for k, v in point.items()}  # away from any special value
    fresh = model_b.compile_logp()(point)
    with model_a:
        pm.set_data(model_inputs(eb, other))
    swapped = model_a.compile_logp()(point)
    return structure(ea, base) == structure(eb, other), fresh, swapped


def test_all_numbers_at_once(observations):
    base = load_scenario("baseline")
    # any number left baked into the graph would make the swapped density differ
    same, fresh, swapped = _logp_pair(observations, base, base.with_overrides(NUMERIC_OVERRIDES))
    assert same, "a numeric override changed the model structure"
    assert np.isfinite(fresh) and swapped == pytest.approx(fresh, rel=1e-12)
    # and the override really moves the density (the comparison is not vacuous)
    _, base_logp, _ = _logp_pair(observations, base, base)
    assert abs(base_logp - fresh) > 1.0


def test_fixed_value_is_data_but_family_change_is_structure(observations):
    base = load_scenario("baseline")
    fixed2 = base.with_overrides({"supply.organs_per_executed": {"dist": "Fixed", "value": 2.0}})
    fixed3 = base.with_overrides({"supply.organs_per_executed": {"dist": "Fixed", "value": 3.0}})
    same, fresh, swapped = _logp_pair(observations, fixed2, fixed3)
    assert same and swapped == pytest.approx(fresh, rel=1e-12)
    ev = build_evidence(observations, base)
    assert structure(ev, base) != structure(ev, fixed2)


def test_mode_search_uses_nutpies_compiled_density(quick_report, observations):
    """The mode search calls the density nutpie samples (no second compilation); with another
    scenario's inputs swapped in (``with_data``) it gives PyMC's log density and gradient."""
    import analysis.model.fit as fit
    from analysis.model.start import PyFuncLogp, held_data

    assert quick_report.result.exit_code == 0, quick_report.result.output
    entries = [e for e in fit._COMPILED.values() if "nutpie" in e]
    assert entries, "the session's quick fit left no compiled nutpie model in this process"
    entry = entries[0]
    model, compiled = entry["model"], entry["nutpie"]
    # a fit must leave the shared model as it was (PyMC's posterior predictive used to append the
    # observed variables again, after which the model's log density could not be built)
    names = [v.name for v in model.observed_RVs]
    # (the baseline tests share statements instead of using them: no obs_share variable)
    assert sorted(names) == sorted(set(names)) == ["obs_count"]
    base = load_scenario("baseline")
    other = base.with_overrides(NUMERIC_OVERRIDES)
    ev = build_evidence(observations, other)
    inputs = model_inputs(ev, other)
    with model:
        pm.set_data(inputs)
    swapped = compiled.with_data(**held_data(compiled, inputs))
    point = {k: v + 0.1 for k, v in model.initial_point().items()}
    x = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
    logp, grad = PyFuncLogp(swapped)(x)
    fn = model.logp_dlogp_function(ravel_inputs=True)
    fn.set_extra_values({})
    ref_logp, ref_grad = fn(x)
    assert np.isfinite(logp) and logp == pytest.approx(float(ref_logp), rel=1e-9)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-7, atol=1e-9)
    # the data really changed what nutpie computes
    assert abs(PyFuncLogp(compiled)(x)[0] - logp) > 1.0
    # a point of the wrong size is an error, never a silent -inf that would end the mode search
    with pytest.raises(RuntimeError, match=r"has dimension \d+, not 3"):
        PyFuncLogp(swapped)(np.zeros(3))


def test_start_nudges_only_coordinates_with_a_vanishing_gradient():
    """nutpie refuses a start whose gradient has an exact zero; coordinates flat at the mode get a
    seeded per-chain nudge, the rest stay at the mode exactly."""
    import dataclasses
    from types import SimpleNamespace

    from analysis.model.start import FLAT_JITTER, nutpie_with_start

    @dataclasses.dataclass(frozen=True)
    class Fake:
        _make_initial_points: object = None

    model = SimpleNamespace(value_vars=[SimpleNamespace(name="a"), SimpleNamespace(name="b")])
    point = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    started = nutpie_with_start(Fake(), model, point, np.array([False, True, False]))
    x1, x2 = started._make_initial_points(1), started._make_initial_points(2)
    assert x1[0] == 1.0 and x1[2] == 3.0 and x2[0] == 1.0 and x2[2] == 3.0
    assert x1[1] != 2.0 and x1[1] != x2[1] and abs(x1[1] - 2.0) < 6 * FLAT_JITTER
    assert np.array_equal(started._make_initial_points(1), x1)  # seeded
    plain = nutpie_with_start(Fake(), model, point)
    assert np.array_equal(plain._make_initial_points(5), [1.0, 2.0, 3.0])
