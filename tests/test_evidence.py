"""How observations become likelihood rows: analytic checks of the mapping and the likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model.evidence import INF, build_evidence
from analysis.scenarios import load_scenario
from tests.conftest import obs, write_raw


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def evidence_for(tmp_path, extra_rows, scenario):
    from tests import conftest

    saved = {k: list(v) for k, v in conftest.FAMILY_ROWS.items()}
    try:
        for family, row in extra_rows:
            conftest.FAMILY_ROWS[family].append(row)
        raw = write_raw(tmp_path / "raw")
    finally:
        conftest.FAMILY_ROWS.clear()
        conftest.FAMILY_ROWS.update(saved)
    return build_evidence(tidy_observations(validate(raw)), scenario)


def test_fixture_rows_mapping(tmp_path, baseline):
    ev = evidence_for(tmp_path, [], baseline)
    rows = ev.rows.set_index("obs_id")
    # exact official total: a point on the log scale
    assert rows.loc["vol-1", ["quantity", "mode", "group"]].tolist() == ["volume", "point", "official"]
    assert rows.loc["vol-1", "lo"] == pytest.approx(np.log(20201))
    # capacity range under capacity_as = upper_bound: volume <= high
    assert rows.loc["vol-2", "mode"] == "bound"
    assert (rows.loc["vol-2", "lo"], rows.loc["vol-2", "hi"]) == (-INF, pytest.approx(np.log(100000)))
    # cumulative "over 18,000" donors 2010-2018: a lower-censored sum
    assert rows.loc["don-2", ["mode", "cumulative", "year", "year_end"]].tolist() == ["interval", True, 2010, 2018]
    assert rows.loc["don-2", "hi"] == INF
    # share of living-related transplants: living / volume on the logit scale, tested against the
    # counts under the baseline (evidence.shares.role = "tested"), so not a likelihood row
    assert "liv-1" not in rows.index and "liv-1" not in set(ev.excluded["obs_id"])
    tested = ev.tested.set_index("obs_id")
    assert tested.loc["liv-1", ["quantity", "denominator"]].tolist() == ["living", "volume"]
    assert tested.loc["liv-1", "lo"] == pytest.approx(np.log(0.1203 / (1 - 0.1203)))
    assert list(ev.years) == list(range(2000, 2019))  # latest single-year observation: 2018


def test_capacity_as_estimate_makes_an_interval(tmp_path):
    ev = evidence_for(tmp_path, [], load_scenario("capacity_as_volume"))
    row = ev.rows.set_index("obs_id").loc["vol-2"]
    assert row["mode"] == "interval"
    assert (row["lo"], row["hi"]) == (pytest.approx(np.log(60000)), pytest.approx(np.log(100000)))


def test_exclusions_are_explained(tmp_path, baseline):
    extra = [
        ("volumes", obs("vol-x1", "km2006_unexplained", 2000, 41500, "transplants", "estimate", "S-NGO",
                        "the source of 41,500 transplants", year_end=2005, flag="gap_claim")),
        ("volumes", obs("vol-x2", "old_total", 1995, 3000, "transplants", "reported", "S-OFF",
                        "about 3,000 transplants")),
        ("volumes", obs("vol-x3", "official_total", 2018, 12712, "transplants", "reported", "S-OFF",
                        "12712 kidney transplants", organ="kidney")),
        # Dui Hua's 2013 estimate relayed by another outlet: same origin (dui_hua), same claim
        ("executions", obs("exe-x1", "dui_hua_estimate", 2013, 2400, "executions", "estimate", "S-OFF",
                           "Dui Hua estimates 2,400", origin="dui_hua")),
    ]
    ev = evidence_for(tmp_path, extra, baseline)
    reasons = ev.excluded.set_index("obs_id")["reason"].to_dict()
    assert reasons["vol-x1"] == "flag gap_claim excluded by the scenario"
    assert reasons["vol-x2"] == "years 1995-1995 outside the model range 2000-2018"
    assert reasons["vol-x3"] == "organ part of a total given by the same source for the same year"
    # the same Dui Hua claim relayed by a second outlet enters once: the producer's own report
    # (an ngo_report for an ngo origin) is kept, the relay is excluded
    assert reasons["exe-x1"] == "relay of claim exe-1 (same origin, quantity, years)"
    assert "exe-1" in set(ev.rows["obs_id"])
    assert ev.rows.set_index("obs_id").loc["exe-1", "group"] == "independent"


def test_qualifiers_and_partial_years(tmp_path, baseline):
    extra = [
        ("volumes", obs("vol-q1", "official_total", 2015, 10000, "transplants", "reported", "S-NGO",
                        "more than 10,000", qualifier="over")),
        ("volumes", obs("vol-q2", "official_total", 2016, 13000, "transplants", "reported", "S-NGO",
                        "nearly 13,000", qualifier="under")),
        ("donation", obs("don-q1", "official_donors", 2017, 5000, "donors", "reported", "S-NGO",
                         "5,000 by June", donor_type="deceased", flag="partial_year")),
        ("volumes", obs("vol-q3", "official_total", 2017, 15000, "transplants", "reported", "S-NGO",
                        "about 15,000", qualifier="approx")),
    ]
    rows = evidence_for(tmp_path, extra, baseline).rows.set_index("obs_id")
    assert (rows.loc["vol-q1", "lo"], rows.loc["vol-q1", "hi"]) == (pytest.approx(np.log(10000)), INF)
    assert (rows.loc["vol-q2", "lo"], rows.loc["vol-q2", "hi"]) == (-INF, pytest.approx(np.log(13000)))
    assert rows.loc["don-q1", "mode"] == "bound" and rows.loc["don-q1", "hi"] == INF
    assert rows.loc["vol-q3", "extra_sd"] == pytest.approx(baseline.get("evidence.rules.approx_extra_sd"))


def test_shares_at_0_or_1_keep_their_qualifier(tmp_path, baseline):
    """A share published as 0 or 1 is censored at SHARE_EPS from the bound, on the side its
    qualifier says: "under 100%" only says below 1 (it must not become "at least 99.99995%")."""
    from analysis.model.evidence import SHARE_EPS

    def share(i, value, qualifier):
        return ("living_and_share", obs(f"sh-{i}", "share_living_related", 2010 + i, value, "share", "reported",
                                        "S-OFF", f"{value} of transplants", denominator="transplant operations",
                                        qualifier=qualifier))

    cases = {0: (1, "under"), 1: (1, "exact"), 2: (1, "over"), 3: (0, "over"), 4: (0, "exact"), 5: (0, "under")}
    rows = evidence_for(tmp_path, [share(i, v, q) for i, (v, q) in cases.items()], baseline).tested.set_index("obs_id")
    hi_cut, lo_cut = np.log((1 - SHARE_EPS) / SHARE_EPS), np.log(SHARE_EPS / (1 - SHARE_EPS))
    expected = {0: (-INF, hi_cut), 1: (hi_cut, INF), 2: (hi_cut, INF),
                3: (lo_cut, INF), 4: (-INF, lo_cut), 5: (-INF, lo_cut)}
    for i, (lo, hi) in expected.items():
        r = rows.loc[f"sh-{i}"]
        assert r["mode"] == "interval", (i, r["mode"])
        assert (r["lo"], r["hi"]) == (pytest.approx(lo), pytest.approx(hi)), (i, cases[i])


def test_censored_normal_logp_matches_scipy():
    import pytensor
    import pytensor.tensor as pt

    from analysis.model.build import censored_normal_logp

    v, mu, sg, hi = pt.dvector(), pt.dvector(), pt.dvector(), pt.dvector()
    f = pytensor.function([v, mu, sg, hi], censored_normal_logp(v, mu, sg, hi))
    lo = np.array([1.0, 1.0, -INF, 0.2, 0.9, -INF, -0.7])
    up = np.array([1.0, INF, 1.2, 0.6, INF, -0.2, 0.3])
    m, s = np.full(7, 0.1), np.full(7, 0.5)
    expected = []
    for a, b in zip(lo, up):
        if a == b:
            expected.append(stats.norm.logpdf(a, 0.1, 0.5))
        else:
            expected.append(np.log(stats.norm.cdf(b, 0.1, 0.5) - stats.norm.cdf(a, 0.1, 0.5)))
    np.testing.assert_allclose(f(lo, m, s, up), expected, rtol=1e-6)
    # far-violated bounds keep a slope (no flat floor that could trap a sampler)
    g = pytensor.function([v, mu, sg, hi], pt.grad(censored_normal_logp(v, mu, sg, hi).sum(), mu))
    grads = g(np.array([30.0, -INF]), np.zeros(2), np.full(2, 0.5), np.array([INF, -20.0]))
    assert grads[0] > 100 and grads[1] < -70
    assert np.isfinite(f(np.array([30.0]), np.zeros(1), np.full(1, 0.5), np.array([INF]))).all()


def test_censored_normal_logp_random_rows_against_scipy():
    """Random points, one-sided and two-sided rows over wide scales: log-density within 1e-6 of
    scipy where scipy is accurate, finite value and gradients everywhere (incl. far tails)."""
    import pytensor
    import pytensor.tensor as pt

    from analysis.model.build import censored_normal_logp

    v, mu, sg, hi = pt.dvector(), pt.dvector(), pt.dvector(), pt.dvector()
    lp = censored_normal_logp(v, mu, sg, hi)
    f = pytensor.function([v, mu, sg, hi], [lp, pt.grad(lp.sum(), mu), pt.grad(lp.sum(), sg)])
    rng = np.random.default_rng(3)
    n = 4000
    m, s = rng.normal(0, 5, n), np.exp(rng.normal(-1, 1.2, n))
    kind = rng.integers(0, 4, n)  # point, lower bound, upper bound, interval
    x1 = rng.normal(0, 8, n)
    x2 = x1 + np.exp(rng.normal(0, 1.5, n))
    lo = np.where(kind == 2, -INF, x1)
    up = np.select([kind == 0, kind == 1, kind == 2], [x1, INF, x1], x2)
    value, dmu, dsg = f(lo, m, s, up)
    assert np.isfinite(value).all() and np.isfinite(dmu).all() and np.isfinite(dsg).all()
    ref = np.select(
        [kind == 0, kind == 1, kind == 2],
        [stats.norm.logpdf(lo, m, s), stats.norm.logsf(lo, m, s), stats.norm.logcdf(up, m, s)],
        np.where(lo > m, np.log(stats.norm.sf(lo, m, s) - stats.norm.sf(up, m, s)),
                 np.log(stats.norm.cdf(up, m, s) - stats.norm.cdf(lo, m, s))))
    ok = np.isfinite(ref) & (ref > -30)  # where a difference of CDFs (or of tails) is itself accurate
    assert ok.sum() > 1500
    np.testing.assert_allclose(value[ok], ref[ok], rtol=1e-6, atol=1e-9)
    # far outside a bound the penalty keeps growing (no flat floor)
    assert (value[~ok & (kind > 0)] < -30).all()
    # the model's per-row version (row kinds fixed at build time) gives the same numbers
    from analysis.model.build import rows_logp

    lp_rows = rows_logp(kind == 0)(v, mu, sg, hi)
    g = pytensor.function([v, mu, sg, hi], [lp_rows, pt.grad(lp_rows.sum(), mu), pt.grad(lp_rows.sum(), sg)])
    for got, want in zip(g(lo, m, s, up), (value, dmu, dsg)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_evidence_rows_on_shipped_data(baseline):
    from pathlib import Path

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    ev = build_evidence(tidy_observations(validate(raw)), baseline)
    assert ev.years[0] == 2000 and ev.years[-1] == 2024
    assert len(ev.rows) > 250
    # one claim, one vote: no two likelihood rows carry the same claim
    from analysis.model.claims import CLAIM_KEY
    assert not ev.rows.duplicated(CLAIM_KEY).any()
    # every excluded row says why; nothing is both used and excluded
    assert ev.excluded["reason"].str.len().min() > 10
    assert not set(ev.rows["obs_id"]) & set(ev.excluded["obs_id"])
    used = set(ev.rows["target"])
    assert {"volume", "executions", "donors", "living"} <= used and "shares" not in used
    # the share statements are tested against the counts, not used (baseline role "tested")
    assert len(ev.tested) > 10 and not set(ev.tested["obs_id"]) & (set(ev.rows["obs_id"]) | set(ev.excluded["obs_id"]))
    assert isinstance(ev.rows, pd.DataFrame)


@pytest.mark.parametrize("role", ["tested", "evidence", "exclude"])
def test_share_role_decides_where_a_statement_goes(tmp_path, baseline, role):
    ev = evidence_for(tmp_path, [], baseline.with_overrides({"evidence.shares.role": role}))
    in_rows = "liv-1" in set(ev.rows["obs_id"])
    in_tested = not ev.tested.empty and "liv-1" in set(ev.tested["obs_id"])
    reasons = ev.excluded.set_index("obs_id")["reason"].to_dict()
    assert (in_rows, in_tested, "liv-1" in reasons) == {
        "tested": (False, True, False), "evidence": (True, False, False), "exclude": (False, False, True)}[role]
    if role == "exclude":
        assert reasons["liv-1"] == "share statements excluded by the scenario (evidence.shares.role)"


def test_partial_year_share_keeps_its_qualifier(tmp_path, baseline):
    """'under 54%' for part of a year is a share below 0.54 (the old code applied the partial-year
    rule first and read it as 'at least 54%')."""
    extra = [("living_and_share", obs("liv-9", "share_executed_prisoners", 2014, 0.54, "share", "reported", "S-OFF",
                 "under 54%", qualifier="under", flag="partial_year", denominator="organs transplanted"))]
    ev = evidence_for(tmp_path, extra, baseline.with_overrides({"evidence.shares.role": "evidence"}))
    row = ev.rows.set_index("obs_id").loc["liv-9"]
    assert (row["mode"], row["lo"]) == ("interval", -INF)
    assert row["hi"] == pytest.approx(np.log(0.54 / 0.46))


def test_partial_year_count_under_a_figure_is_excluded(tmp_path, baseline):
    extra = [("volumes", obs("vol-9", "official_total", 2017, 5000, "transplants", "reported", "S-OFF",
                             "under 5000", qualifier="under", flag="partial_year"))]
    ev = evidence_for(tmp_path, extra, baseline)
    assert ev.excluded.set_index("obs_id").loc["vol-9", "reason"] == (
        "a partial-year count 'under' a figure bounds no full-year count")


def test_projection_is_not_a_measurement(tmp_path, baseline):
    extra = [("volumes", obs("vol-8", "official_total", 2017, 20000, "transplants", "reported", "S-OFF",
                             "expected to exceed 20000", qualifier="over", flag="projection"))]
    ev = evidence_for(tmp_path, extra, baseline)
    assert ev.excluded.set_index("obs_id").loc["vol-8", "reason"] == "flag projection excluded by the scenario"


def test_capacity_over_a_figure_is_no_upper_bound(tmp_path, baseline):
    """'a capacity of over 1,000,000 since 2000' says the capacity exceeds the figure; it cannot
    bound the volume from above at that figure."""
    extra = [("volumes", obs("vol-7", "capacity_claim", 2010, 30000, "transplants", "capacity", "S-NGO",
                             "over 30000", qualifier="over"))]
    ev = evidence_for(tmp_path, extra, baseline)
    assert ev.excluded.set_index("obs_id").loc["vol-7", "reason"] == "a capacity 'over' a figure bounds no volume from above"


def test_partial_year_bound_carries_the_class_bias_unless_the_scenario_says_otherwise(tmp_path, baseline):
    """A partial-year count ("more than 10,000 so far") is a bound that carries its class's bias;
    a recorded minimum (kind lower_bound) does not; evidence.rules.unbiased_bound_kinds decides."""
    from analysis.model.inputs import design

    extra = [("volumes", obs("vol-6", "official_total", 2012, 8000, "transplants", "reported", "S-OFF",
                             "more than 8000", qualifier="over", flag="partial_year")),
             ("executions", obs("exe-6", "amnesty_recorded", 2012, 1000, "executions", "lower_bound", "S-NGO",
                                "at least 1000", qualifier="over"))]
    for sc, expect in [(baseline, {"vol-6": True, "exe-6": False}),
                       (baseline.with_overrides({"evidence.rules.unbiased_bound_kinds":
                                                 ["lower_bound", "upper_bound", "capacity", "reported"]}),
                        {"vol-6": False, "exe-6": False})]:
        ev = evidence_for(tmp_path, extra, sc)
        d = design(ev, "count")
        got = dict(zip(d["rows"]["obs_id"], d["biased"]))
        assert {k: bool(got[k]) for k in expect} == expect
        assert bool(got["vol-1"])  # a point row always carries its class bias
