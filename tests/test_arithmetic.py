"""The model's check-the-arithmetic tables on hand-made posteriors (analytic answers, no sampling),
and share statements with role "tested" leaving the supply's likelihood untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from analysis.model.arithmetic import capacity_gap_by_year, composition_test, executions_required
from analysis.model.evidence import Evidence
from analysis.model.summarize import gap_by_period

YEARS = np.array([2004, 2005, 2006])


def posterior(n=400, seed=0, **yearly):
    """An InferenceData-like object whose posterior holds the given (year,) means, with 5% lognormal
    noise per draw (one chain)."""
    rng = np.random.default_rng(seed)
    data = {}
    for name, mean in yearly.items():
        mean = np.broadcast_to(np.asarray(mean, float), YEARS.shape)
        draws = mean[None, :] * np.exp(rng.normal(0, 0.05, (n, len(YEARS))))
        data[name] = (("chain", "draw", "year"), draws[None])
    post = xr.Dataset(data, coords={"chain": [0], "draw": np.arange(n), "year": YEARS})
    return type("Idata", (), {"posterior": post})()


def statement(obs_id, value, year=2005, quantity="prisoner_organs", denominator="volume"):
    logit = float(np.log(value / (1 - value)))
    return dict(obs_id=obs_id, series="share_executed_prisoners", source_id="S", year=year,
                year_end=year, likelihood="share", quantity=quantity, denominator=denominator,
                mode="point", lo=logit, hi=logit, qualifier="over", value=value)


def evidence_with(tested: list[dict]) -> Evidence:
    return Evidence(years=YEARS, rows=pd.DataFrame(), excluded=pd.DataFrame(), tested=pd.DataFrame(tested))


BASE = dict(volume=10_000, deceased_volume=9_000, living=1_000, donors=0, donor_organs=0,
            organs_per_executed_t=1.5, prisoner_organs=6_000)


def test_impossible_composition_claim_is_flagged():
    """'90% of 10,000 organs from prisoners' with 1,000 executions needs 9 organs per executed
    person, above the ceiling of 5: P(implied > ceiling) ~ 1."""
    idata = posterior(executions=1_000, **BASE)
    out = composition_test(idata, evidence_with([statement("s1", 0.9)]), c_max=5.0).iloc[0]
    assert out["implied_organs_per_executed_median"] == pytest.approx(9.0, rel=0.03)
    assert out["p_implied_exceeds_ceiling"] > 0.95
    assert out["max_possible_share_median"] == pytest.approx(0.5, rel=0.03)  # 1,000 x 5 / 10,000
    assert out["model_share_median"] == pytest.approx(0.6, rel=0.03)  # 6,000 / 10,000
    assert out["role"] == "tested"


def test_possible_composition_claim_is_not_flagged():
    """The same statement with 5,000 executions implies 1.8 organs per executed person."""
    idata = posterior(executions=5_000, **BASE)
    out = composition_test(idata, evidence_with([statement("s1", 0.9)]), c_max=5.0).iloc[0]
    assert out["implied_organs_per_executed_median"] == pytest.approx(1.8, rel=0.03)
    assert out["p_implied_exceeds_ceiling"] < 0.5
    assert out["max_possible_share_median"] == 1.0


def test_borderline_claim_is_uncertain():
    """Implied yield exactly at the ceiling: about half the draws exceed it."""
    idata = posterior(executions=1_800, **BASE)
    p = composition_test(idata, evidence_with([statement("s1", 0.9)]), c_max=5.0)["p_implied_exceeds_ceiling"].iloc[0]
    assert 0.3 < p < 0.7


def test_non_prisoner_statement_has_no_implied_yield():
    idata = posterior(executions=1_000, **BASE)
    out = composition_test(idata, evidence_with([statement("s2", 0.1, quantity="living")]), c_max=5.0).iloc[0]
    assert out["model_share_median"] == pytest.approx(0.1, rel=0.03)
    assert np.isnan(out["p_implied_exceeds_ceiling"])


def test_capacity_gap_and_executions_required():
    """V 10,000, living 1,000, no donors: 9,000 organs for prisoners. With 1,000 executions at a
    ceiling of 5 at most 5,000 (capacity gap 4,000); 1,800 executions are required at the ceiling,
    6,000 at the yield 1.5."""
    idata = posterior(executions=1_000, **BASE)
    mask = np.array([1.0, 1.0, 0.0])  # prisoners declared in 2004-2005 only
    cap = capacity_gap_by_year(idata, 5.0, mask).set_index("year")
    assert cap.loc[2005, "capacity_gap_median"] == pytest.approx(4_000, rel=0.1)
    assert cap.loc[2005, "p_capacity_gap_positive"] == 1.0
    assert cap.loc[2006, "capacity_gap_median"] == pytest.approx(9_000, rel=0.1)  # prisoners not declared
    req = executions_required(idata, evidence_with([]), 5.0, mask).set_index("year")
    assert req.loc[2005, "required_at_ceiling_median"] == pytest.approx(1_800, rel=0.06)
    assert req.loc[2005, "required_at_yield_median"] == pytest.approx(6_000, rel=0.06)
    assert req.loc[2005, "p_required_at_ceiling_exceeds_estimated"] == 1.0
    assert list(req["prisoners_declared"]) == [True, True, False]


def test_unexplained_never_nets_spare_capacity_against_shortfalls():
    """Gap +1,000 in one year and -3,000 in the next: the signed period sum is -2,000, the organs
    not explained 1,000, the unused capacity 3,000."""
    gap = np.array([1_000.0, -3_000.0, 0.0])
    post = xr.Dataset({"gap": (("chain", "draw", "year"), np.broadcast_to(gap, (1, 10, 3)).copy())},
                      coords={"chain": [0], "draw": np.arange(10), "year": YEARS})
    idata = type("Idata", (), {"posterior": post})()
    row = gap_by_period(idata, [(2004, 2006)]).iloc[0]
    assert (row["gap_median"], row["unexplained_median"], row["unused_capacity_median"]) == (-2_000, 1_000, 3_000)
    assert (row["p_gap_positive"], row["p_any_year_positive"]) == (0.0, 1.0)


# ---- share statements as tested claims vs as evidence ---------------------------------------------

def _synthetic_raw(tmp_path, with_shares: bool):
    """2000-2003: about 10,000 transplants and 5,000 executions a year; optionally an official
    "90% of organs from executed prisoners" statement for 2001-2003."""
    from tests import conftest
    from tests.conftest import obs

    rows = {
        "volumes": [obs(f"vol-{y}", "official_total", y, 10000 + 100 * i, "transplants", "reported", "S-OFF",
                        f"{10000 + 100 * i} transplants") for i, y in enumerate(range(2000, 2004))],
        "executions": [obs(f"exe-{y}", "dui_hua_estimate", y, 5000 - 200 * i, "executions", "estimate", "S-NGO",
                           f"{5000 - 200 * i} executions") for i, y in enumerate(range(2000, 2004))],
        "donation": [obs("don-1", "official_donors", 2003, 40, "donors", "reported", "S-OFF", "40 donors",
                         donor_type="deceased")],
        "living_and_share": [obs("liv-1", "official_living", 2002, 900, "transplants", "reported", "S-OFF",
                                 "900 living", donor_type="living")],
    }
    if with_shares:
        rows["living_and_share"] += [
            obs(f"sh-{y}", "share_executed_prisoners", y, 0.9, "share", "reported", "S-OFF",
                "over 90%", qualifier="over", denominator="organs transplanted") for y in (2001, 2002, 2003)]
    saved = {k: list(v) for k, v in conftest.FAMILY_ROWS.items()}
    try:
        conftest.FAMILY_ROWS.update(rows)
        raw = conftest.write_raw(tmp_path / ("with" if with_shares else "without"))
    finally:
        conftest.FAMILY_ROWS.clear()
        conftest.FAMILY_ROWS.update(saved)
    return raw


def _evidence(tmp_path, with_shares, role):
    from analysis.data.check import validate
    from analysis.data.ingest import tidy_observations
    from analysis.model.evidence import build_evidence
    from analysis.scenarios import load_scenario

    sc = load_scenario("baseline").with_overrides({"evidence.shares.role": role, "declared.donation_start": 2003})
    return build_evidence(tidy_observations(validate(_synthetic_raw(tmp_path, with_shares))), sc), sc


def test_tested_shares_leave_the_model_exactly_unchanged(tmp_path):
    """With role "tested" the share statements are outside the likelihood: the model's structure and
    every input are the same with and without them, so its posterior is the same for any seed
    (exactly, not only within Monte Carlo error). They are still tested (ev.tested)."""
    from analysis.model.inputs import model_inputs, structure

    with_sh, sc = _evidence(tmp_path, True, "tested")
    without, _ = _evidence(tmp_path, False, "tested")
    assert len(with_sh.tested) == 3 and without.tested.empty
    assert structure(with_sh, sc) == structure(without, sc)
    a, b = model_inputs(with_sh, sc), model_inputs(without, sc)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_shares_as_evidence_move_the_prisoner_supply(tmp_path):
    """With role "evidence" the statements move the prisoner yield u*y_e: "over 90%" of ~10,000
    organs with ~4,700 executions pulls its mode well above "under 20%" does (one compiled model,
    the statements swapped in as data)."""
    from analysis.model.build import build_model
    from analysis.model.inputs import model_inputs, structure
    from analysis.model.start import StartFinder

    high, sc = _evidence(tmp_path, True, "evidence")
    low = high.rows.copy()
    share = low["likelihood"] == "share"
    low.loc[share, ["lo", "hi"]] = [-1e3, float(np.log(0.2 / 0.8))]  # "under 20%"
    low = Evidence(years=high.years, rows=low, excluded=high.excluded)
    assert structure(low, sc) == structure(high, sc)
    model = build_model(high, sc)
    finder = StartFinder(model)

    def mode_yield(ev):
        point = finder.find(data=model_inputs(ev, sc), paths=model.tgap_start)
        u = 1 / (1 + np.exp(-point["share_executed_used_logodds__"]))
        return float(u * np.exp(point["organs_per_executed_log__"]))

    up, down = mode_yield(high), mode_yield(low)
    assert up > 1.4 and down < 0.8 * up, (up, down)
