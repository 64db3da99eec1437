"""Origins, one claim one vote, and units as measured quantities (issue 13). Pure evidence-level
tests: no model is compiled and nothing is sampled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data import rules
from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model import claims, units
from analysis.model.evidence import INF, build_evidence
from analysis.scenarios import load_scenario

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


@pytest.fixture(scope="module")
def shipped():
    return tidy_observations(validate(RAW))


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def test_groups_follow_the_origin_kind_not_the_outlet(shipped, baseline):
    assert {k: claims.evidence_group(k) for k in rules.ORIGIN_KINDS} == {
        "official": "official", "registry": "official", "international": "international",
        "ngo": "independent", "academic": "independent", "advocacy": "independent", "media": "independent"}
    with pytest.raises(ValueError, match="origin kind 'blog' has no evidence group"):
        claims.evidence_group("blog")
    ev = build_evidence(shipped, baseline)
    rows = ev.rows.set_index("obs_id")
    # GODT republishing China's figures is official evidence (origin nhc), not "international"
    assert rows.loc["don-2020-godt25-dd", ["source_kind", "origin", "group"]].tolist() == [
        "international_registry", "nhc", "official"]
    # a news report of a Dui Hua estimate is independent evidence whatever the outlet
    assert set(rows.loc[rows["origin"] == "dui_hua", "group"]) == {"independent"}
    assert (rows["group"] == rows["origin_kind"].map(claims.GROUP_OF_ORIGIN_KIND)).all()


def _relays(obs: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Every row of one origin three times more, as relays: a mirror (same outlet kind), a news
    report with the exact figure turned "approx" (a qualifier variant), and a news report flagged
    secondary; each under a new source_id. A relay of a news or tertiary row keeps that kind."""
    base = obs[obs["origin"] == origin]
    news = base["source_kind"].where(base["source_kind"].isin(["news", "tertiary"]), "news")
    copies = []
    for i in (1, 2, 3):
        c = base.copy()
        c["obs_id"] = c["obs_id"] + f"-relay{i}"
        c["source_id"] = c["source_id"] + f"-RELAY{i}"
        if i > 1:
            c["source_kind"] = news
        if i == 2:
            c.loc[c["qualifier"] == "exact", "qualifier"] = "approx"
        if i == 3:
            c["flag"] = c["flag"].fillna("").map(lambda f: ";".join([x for x in f.split(";") if x] + ["secondary"]))
        copies.append(c)
    return pd.concat([obs, *copies], ignore_index=True)


@pytest.mark.parametrize("origin", ["dui_hua", "amnesty", "nhc", "kgm2016"])
def test_relays_of_one_origin_leave_the_evidence_unchanged(shipped, baseline, origin):
    """Duplicating every row of one origin three times as relays yields exactly the same
    likelihood rows. The model is built from Evidence.rows and Evidence.years only (plus the
    scenario), so identical rows mean an identical log density and, for the same seed, an
    identical posterior: exact equality here is stronger than any Monte Carlo tolerance and needs
    no sampling."""
    before = build_evidence(shipped, baseline)
    after = build_evidence(_relays(shipped, origin), baseline)
    assert list(after.years) == list(before.years)
    pd.testing.assert_frame_equal(after.rows, before.rows)
    added = after.excluded[after.excluded["obs_id"].str.contains("-relay")]
    n_rows = int((shipped["origin"] == origin).sum())
    assert len(added) == 3 * n_rows
    # a relay of a row that enters is excluded as a relay of that row's claim
    kept = set(before.rows["obs_id"])
    reason = added.set_index("obs_id")["reason"]
    for obs_id in kept & set(shipped.loc[shipped["origin"] == origin, "obs_id"]):
        for i in (1, 2, 3):
            assert reason[f"{obs_id}-relay{i}"] == f"relay of claim {obs_id} (same origin, quantity, years)"


def test_one_claim_keeps_the_most_precise_reading(shipped, baseline):
    ev = build_evidence(shipped, baseline)
    reasons = ev.excluded.set_index("obs_id")["reason"]
    # Dui Hua's 2006 estimate: its own table (a point) is kept; three relays are out
    for relay in ["exe-2006-lat-2011-dui-hua-estimate", "exe-2006-guard-2008-04-dui-hua-estimate",
                  "exe-2006-ntc2007-dui-hua-estimate"]:
        assert reasons[relay] == "relay of claim exe-2006-dh-table-dui-hua-estimate (same origin, quantity, years)"
    # the 2009 China Daily claim (0.65, two-thirds, "over 0.65") enters once, as 0.65
    for relay in ["liv-2009-huff2009-share-exec", "liv-2009-gizmodo2019-share-exec"]:
        assert reasons[relay] == "relay of claim liv-2009-indep2009-share-exec (same origin, quantity, years)"
    # the NHC 2018 total "over 20,000" is a relay of the exact 20,201
    assert reasons["vol-2018-pd2019-total"] == "relay of claim vol-2018-nhc2019cns-total (same origin, quantity, years)"
    # of two minimums of one claim the larger (it implies the smaller) is kept
    assert reasons["exe-2001-aiuk-2002-amnesty-recorded-partial"].endswith("exe-2001-aiuk-2002-amnesty-recorded (same origin, quantity, years)")


def test_a_projection_is_not_the_same_claim_as_a_count():
    row = dict(origin="nhc", target="volume", quantity="volume", denominator="", organ="all", donor_type="all",
               year=2016, year_end=2016, mode="interval", lo=np.log(13000), hi=INF, extra_sd=0.0,
               origin_kind="official", source_kind="official_statement")
    rows = pd.DataFrame([
        row | dict(obs_id="count", flag="", reading=claims.reading("reported", "")),
        row | dict(obs_id="proj", flag="projection", lo=np.log(20000), reading=claims.reading("estimate", "projection")),
        row | dict(obs_id="partial", flag="partial_year", mode="bound", reading=claims.reading("reported", "partial_year")),
    ])
    assert claims.collapse_relays(rows) == {}
    assert claims.reading("reported", "partial_year") == "minimum"
    assert claims.reading("capacity", "partial_year") == "capacity"
    assert claims.reading("cumulative") == "total"


# (family, unit, donor_type) -> (target, quantity, reading); None = excluded with the reason
UNIT_CASES = {
    ("volumes", "transplants", "all"): ("volume", "volume", units.AS_IS),
    ("volumes", "transplants", "deceased"): ("volume", "deceased_volume", units.AS_IS),
    ("volumes", "transplants", "living"): ("living", "living", units.AS_IS),
    ("volumes", "recipients", "all"): ("volume", "volume", units.AS_IS),
    ("volumes", "organs_transplanted", "all"): ("volume", "volume", units.AS_IS),
    ("volumes", "organs", "all"): "unit 'organs' in volumes has no model quantity (analysis/model/units.py)",
    ("donation", "donors", "deceased"): ("donors", "donors_reported", units.AS_IS),
    ("donation", "organs", "deceased"): ("donors", "donor_organs_reported", units.DONATED),
    ("donation", "organs_transplanted", "deceased"): ("donors", "donor_organs_reported", units.AS_IS),
    ("donation", "transplants", "deceased"): ("donors", "donor_organs_reported", units.AS_IS),
    ("donation", "donors", "living"): "living donors in the donation file",
    ("executions", "executions", "all"): ("executions", "executions", units.AS_IS),
    ("living_and_share", "transplants", "living"): ("living", "living", units.AS_IS),
    ("living_and_share", "donors", "living"): ("living", "living", units.AS_IS),
    ("living_and_share", "donors", "all"): "donors of donor_type=all in living_and_share: no model quantity",
    ("executions", "donors", "all"): "unit 'donors' in executions has no model quantity (analysis/model/units.py)",
}


@pytest.mark.parametrize("case", list(UNIT_CASES), ids=["/".join(c) for c in UNIT_CASES])
def test_each_unit_measures_its_quantity(case):
    target, quantity, reading, why = units.measured_quantity(*case)
    want = UNIT_CASES[case]
    if isinstance(want, str):
        assert (target, quantity, why) == (None, None, want)
    else:
        assert (target, quantity, reading, why) == (*want, "")


def test_every_allowed_count_unit_is_in_the_table_or_excluded_on_purpose():
    for family, (_, allowed) in rules.FAMILIES.items():
        for unit in allowed:
            if unit == "share" or (family, unit) == ("volumes", "organs"):
                continue
            assert (family, unit) in units.UNIT_TABLE, (family, unit)
    assert all(m.rationale for m in units.UNIT_TABLE.values())


def test_no_count_row_enters_with_an_unmapped_unit(shipped, baseline):
    ev = build_evidence(shipped, baseline)
    obs = shipped.set_index("obs_id")
    counts = ev.rows[ev.rows["likelihood"] == "count"]
    for r in counts.itertuples():
        o = obs.loc[r.obs_id]
        target, quantity, _, _ = units.measured_quantity(o["family"], o["unit"], o["donor_type"])
        assert (target, quantity) == (r.target, r.quantity), r.obs_id
    ex = ev.excluded.set_index("obs_id")["reason"]
    assert ex["vol-1994-hrw1994-prisoner-organs"].startswith("years ")  # excluded earlier, by its years


def _donated(value=None, high=None, qualifier="exact", kind="reported", flag=""):
    return pd.Series(dict(value=value, high=high, qualifier=qualifier, kind=kind, flag=flag))


def test_organs_donated_bound_organs_transplanted_from_above():
    log = np.log
    r = lambda **kw: pd.DataFrame([_donated(**kw)]).iloc[0:1].itertuples().__next__()  # noqa: E731
    assert units.donated_as_bound(r(value=11037.0), log) == ("bound", -INF, pytest.approx(log(11037)), 0.0)
    assert units.donated_as_bound(r(value=16000.0, qualifier="under"), log)[2] == pytest.approx(log(16000))
    assert units.donated_as_bound(r(value=5000.0, qualifier="over"), log) is None
    assert units.donated_as_bound(r(value=5787.0, flag="partial_year"), log) is None
    assert units.donated_as_bound(r(value=np.nan, high=9000.0), log)[2] == pytest.approx(log(9000))


def test_organs_donated_rule_on_shipped_data(shipped, baseline):
    ev = build_evidence(shipped, baseline)
    rows, ex = ev.rows.set_index("obs_id"), ev.excluded.set_index("obs_id")["reason"]
    # "4,080 people donated 11,037 organs" (2016): a maximum of the organs transplanted
    r = rows.loc["don-2016-cd201712-organs"]
    assert (r["mode"], r["lo"], r["reading"]) == ("bound", -INF, "maximum")
    assert r["hi"] == pytest.approx(np.log(11037))
    # "more than 5,700 organs donated" by mid-August 2014 bounds nothing about organs transplanted
    assert ex["don-cum2014-pd2014-organs"] == ("organs donated: only a lower bound on organs donated, "
                                              "which does not bound organs transplanted")
    # organs transplanted enter as they are
    assert rows.loc["don-cum2013-georgetown2015-organs-tx", "mode"] == "point"
    as_tx = load_scenario("baseline").data
    as_tx["evidence"]["rules"]["organs_donated_as"] = "as_transplanted"
    from analysis.scenarios import Scenario
    ev2 = build_evidence(shipped, Scenario("t", as_tx, []))
    assert ev2.rows.set_index("obs_id").loc["don-2016-cd201712-organs", "mode"] == "point"


def test_ambiguous_units_and_tertiary_sources_are_out_of_the_baseline(shipped, baseline):
    ex = build_evidence(shipped, baseline).excluded.set_index("obs_id")["reason"]
    assert ex["don-2015-gt2020-organs-2015to2019"] == "flag ambiguous_unit excluded by the scenario"
    tertiary = shipped.loc[shipped["source_kind"] == "tertiary", "obs_id"]
    # 10 rows: the 9 of the fourth session and the Kilgour & Matas 18,500 with identified sources
    # (CAUSES-KM, a petition summary; used only by literature.km2007 as its declared supply)
    assert len(tertiary) == 10 and "vol-2000-causeskm-identified-sources" in set(tertiary)
    assert {ex[i] for i in tertiary} <= {"source kind tertiary excluded by the scenario",
                                        "flag gap_claim excluded by the scenario"} | {
        r for r in ex if r.startswith("years ")}
    assert ex["vol-2000-causeskm-identified-sources"] == "flag gap_claim excluded by the scenario"


def test_independent_only_uses_no_official_or_registry_origin(shipped):
    ev = build_evidence(shipped, load_scenario("independent_only"))
    vol = ev.rows[ev.rows["target"] == "volume"]
    assert len(vol) > 0
    assert not set(vol["origin_kind"]) & {"official", "registry"}
    assert set(vol["group"]) == {"independent"}


def test_capacity_as_volume_reads_capacity_rows_as_estimates(shipped, baseline):
    base = build_evidence(shipped, baseline).rows.set_index("obs_id")
    cap = build_evidence(shipped, load_scenario("capacity_as_volume")).rows.set_index("obs_id")
    kgm = "vol-2016-et2016-gutmann"
    assert (base.loc[kgm, "mode"], base.loc[kgm, "hi"]) == ("bound", pytest.approx(np.log(100000)))
    assert (cap.loc[kgm, "mode"], cap.loc[kgm, "year"], cap.loc[kgm, "group"]) == ("interval", 2016, "independent")
    assert (cap.loc[kgm, "lo"], cap.loc[kgm, "hi"]) == (pytest.approx(np.log(60000)), pytest.approx(np.log(100000)))
    # "over one million since 2000": a lower bound on the 2000-2017 total, not on a yearly level
    total = cap.loc["vol-2000-cohrchome-capacity"]
    assert (total["cumulative"], total["year"], total["year_end"], total["lo"], total["hi"]) == (
        True, 2000, 2017, pytest.approx(np.log(1e6)), INF)


def test_origin_weight_table():
    obs = pd.DataFrame({"obs_id": ["a", "b", "c", "d"], "origin": ["x", "x", "x", "y"],
                        "origin_kind": ["ngo", "ngo", "ngo", "official"]})
    rows = pd.DataFrame({"obs_id": ["a", "d"]})
    excluded = pd.DataFrame({"obs_id": ["b", "c"], "reason": ["relay of claim a (same origin, quantity, years)",
                                                               "years 1990-1990 outside the model range"]})
    from analysis.model.evidence import Evidence
    table = claims.origin_weights(Evidence(np.arange(2000, 2001), rows, excluded), obs)
    assert table.to_dict("records") == [
        {"origin": "x", "kind": "ngo", "claims": 1, "rows": 3, "relays_collapsed": 1},
        {"origin": "y", "kind": "official", "claims": 1, "rows": 1, "relays_collapsed": 0},
    ]
