"""Every scenario validation accepts gives a finite log density at the model's start point.

One model is built and compiled on the small fixture dataset; a seeded generator perturbs 1-5
numbers of the baseline (prior parameters across and beyond their allowed ranges, organ mix,
likelihood scales), keeps the scenarios validation accepts, swaps their values in as data
(``model_inputs`` + ``pm.set_data``, the same path a fit takes) and evaluates the compiled log
density at the initial point.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.scenarios import ScenarioError, load_scenario
from analysis.scenarios.spec import DISTRIBUTIONS, _priors

from .conftest import write_raw

N_ACCEPTED = 40


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    from analysis.data.ingest import ingest, read_observations
    from analysis.model.build import build_model
    from analysis.model.evidence import build_evidence

    base_dir = tmp_path_factory.mktemp("fuzz")
    ingest(write_raw(base_dir / "raw"), base_dir / "derived")
    obs = read_observations(base_dir / "derived")
    base = load_scenario("baseline")
    evidence = build_evidence(obs, base)
    model = build_model(evidence, base)
    return obs, base, evidence, model, model.compile_logp()


def _numbers(base) -> list[tuple[str, str]]:
    """(dotted key, "real" | "positive") of every number the generator may change."""
    out = [(f"{key}.{p}", c) for key, spec in _priors(base.data) for p, c in DISTRIBUTIONS[spec["dist"]].items()]
    out += [(f"organ_mix.{g}.{o}", "positive") for g, mix in base.data["organ_mix"].items() for o in mix]
    out += [(k, "positive") for k in ("evidence.shares.noise", "evidence.rules.lower_bound_softness",
                                      "evidence.rules.approx_extra_sd", "evidence.rules.part_extra_sd")]
    return out


def fuzzed_scenarios(base, seed: int, n: int):
    rng = np.random.default_rng(seed)
    numbers = _numbers(base)
    accepted = rejected = 0
    while accepted < n:
        picks = rng.choice(len(numbers), size=rng.integers(1, 6), replace=False)
        overrides = {}
        for i in picks:
            key, kind = numbers[i]
            overrides[key] = (float(10 ** rng.uniform(-5, 5)) if kind == "positive"
                              else float(rng.uniform(-30, 30)))
        try:
            sc = base.with_overrides(overrides, label="fuzz")
        except ScenarioError:
            rejected += 1
            continue
        accepted += 1
        yield overrides, sc
    assert rejected > 0  # the generator also reaches values validation refuses


def test_accepted_scenarios_have_finite_log_density(compiled):
    import pymc as pm

    from analysis.model.evidence import build_evidence
    from analysis.model.inputs import model_inputs, structure

    obs, base, evidence, model, logp = compiled
    shape = structure(evidence, base)
    bad = []
    for overrides, sc in fuzzed_scenarios(base, seed=18, n=N_ACCEPTED):
        ev = build_evidence(obs, sc)
        assert structure(ev, sc) == shape  # numbers only: the compiled model serves them all
        with model:
            pm.set_data(model_inputs(ev, sc))
        value = logp(model.initial_point())
        if not np.isfinite(value):
            bad.append((value, overrides))
    with model:  # leave the model as built
        pm.set_data(model_inputs(evidence, base))
    assert bad == []
