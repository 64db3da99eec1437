"""The reviewer's scenario keys (include / exclude lists, row overrides, fixed supplies), each on a
synthetic case with a known answer, and `tgap replicate` end to end with a mocked sampler."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import rules
from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model.evidence import build_evidence
from analysis.scenarios import ScenarioError, literature, load_scenario
from analysis.scenarios import spec as scenario_spec
from tests.conftest import obs, write_raw

runner = CliRunner()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@pytest.fixture
def observations(tmp_path):
    from tests import conftest

    saved = {k: list(v) for k, v in conftest.FAMILY_ROWS.items()}
    try:
        conftest.FAMILY_ROWS["volumes"].append(
            obs("vol-liver", "official_liver", 2017, 6000, "transplants", "reported", "S-OFF",
                "6,000 liver transplants", organ="liver"))
        conftest.FAMILY_ROWS["volumes"].append(
            obs("vol-ref", "old_total", 1994, 18000, "transplants", "cumulative", "S-OFF",
                "18,000 transplants in 1994-1999", year_end=1999))
        raw = write_raw(tmp_path / "raw")
    finally:
        conftest.FAMILY_ROWS.clear()
        conftest.FAMILY_ROWS.update(saved)
    return tidy_observations(validate(raw))


def _ev(observations, baseline, **overrides):
    return build_evidence(observations, baseline.with_overrides(overrides))


def _used(ev) -> set[str]:
    return set(ev.rows["obs_id"]) | set(ev.tested["obs_id"] if len(ev.tested) else [])


# ---- names are checked against the data ------------------------------------------------------

@pytest.mark.parametrize("key, value, fragment", [
    ("evidence.rules.exclude_series", ["no_such_series"], "unknown series 'no_such_series'; allowed: "),
    ("evidence.rules.include_series", ["no_such_series"], "unknown series 'no_such_series'; allowed: "),
    ("evidence.rules.exclude_sources", ["S-NONE"], "unknown source 'S-NONE'; allowed: S-NGO, S-OFF"),
    ("evidence.rules.include_sources", ["S-NONE"], "unknown source 'S-NONE'; allowed: S-NGO, S-OFF"),
    ("evidence.rules.include_origins", ["nobody"], "unknown origin 'nobody'; allowed: dui_hua, kgm2016, nhc"),
    ("evidence.rules.exclude_origins", ["nobody"], "unknown origin 'nobody'; allowed: dui_hua, kgm2016, nhc"),
    ("evidence.rules.exclude_organs", ["spleen"], "unknown organ 'spleen'; allowed: kidney, liver"),
    ("overrides", {"vol-99": {"kind": "estimate", "reason": "r"}}, "unknown obs_id 'vol-99'; allowed: "),
    ("fixed_supply", {"x": {"source": "all", "years": [2000, 2001], "from_obs": "vol-99", }},
     "unknown obs_id 'vol-99'"),
])
def test_unknown_names_are_refused_with_the_allowed_names(observations, baseline, key, value, fragment):
    with pytest.raises(ScenarioError) as err:
        _ev(observations, baseline, **{key: value})
    assert fragment in str(err.value)
    assert "official_total" in str(err.value) or "series" not in fragment


def test_fit_exits_2_on_an_unknown_series(raw_dir, tmp_path):
    sc = tmp_path / "typo.toml"
    sc.write_text('extends = "baseline"\n[evidence.rules]\nexclude_series = ["no_such_series"]\n')
    res = runner.invoke(app, ["fit", "-s", str(sc), "--data-dir", str(raw_dir), "--derived",
                              str(tmp_path / "derived"), "--out", str(tmp_path / "out"), "--quick"])
    assert res.exit_code == 2
    assert "typo.toml: evidence.rules.exclude_series: unknown series 'no_such_series'; allowed: " in res.stderr
    assert "official_total" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


# ---- include-only and exclusion lists ----------------------------------------------------------

def test_include_and_exclude_lists_select_the_documented_rows(observations, baseline):
    everything = _used(_ev(observations, baseline))
    assert {"vol-1", "vol-2", "exe-1", "don-1", "vol-liver"} <= everything
    assert _used(_ev(observations, baseline, **{"evidence.rules.include_series": ["official_total"]})) == {"vol-1"}
    assert _used(_ev(observations, baseline, **{"evidence.rules.include_sources": ["S-NGO"]})) == {"vol-2", "exe-1"}
    assert _used(_ev(observations, baseline, **{"evidence.rules.include_origins": ["dui_hua"]})) == {"exe-1"}
    ev = _ev(observations, baseline, **{"evidence.rules.exclude_origins": ["kgm2016"]})
    assert _used(ev) == everything - {"vol-2"}
    assert ev.excluded.set_index("obs_id").loc["vol-2", "reason"] == "origin excluded by the scenario"
    ev = _ev(observations, baseline, **{"evidence.rules.exclude_organs": ["liver"]})
    assert _used(ev) == everything - {"vol-liver"}
    assert "organ liver excluded" in ev.excluded.set_index("obs_id").loc["vol-liver", "reason"]
    # include then exclude: both lists apply
    ev = _ev(observations, baseline, **{"evidence.rules.include_sources": ["S-NGO"],
                                        "evidence.rules.exclude_series": ["kgm_update"]})
    assert _used(ev) == {"exe-1"}


# ---- row overrides -------------------------------------------------------------------------------

def test_override_rereads_a_row_and_is_recorded(observations, baseline):
    ev = _ev(observations, baseline, overrides={"vol-2": {"kind": "estimate", "reason": "a yearly estimate"}})
    row = ev.rows.set_index("obs_id").loc["vol-2"]  # capacity read as an estimate: an interval
    assert (row["mode"], row["kind"]) == ("interval", "estimate")
    assert (row["lo"], row["hi"]) == (pytest.approx(np.log(60000)), pytest.approx(np.log(100000)))
    assert ev.overrides.to_dict("records") == [{"obs_id": "vol-2", "column": "kind", "data": "capacity",
                                                "scenario": "estimate", "reason": "a yearly estimate"}]
    moved = _ev(observations, baseline, overrides={"vol-1": {"year": 2017, "qualifier": "approx",
                                                              "reason": "re-dated"}})
    r = moved.rows.set_index("obs_id").loc["vol-1"]
    assert (r["year"], r["year_end"], r["qualifier"], r["extra_sd"]) == (2017, 2017, "approx", 0.1)
    assert set(moved.overrides["column"]) == {"year", "year_end", "qualifier"}
    spread = _ev(observations, baseline, overrides={"vol-1": {"year": 2016, "year_end": 2018, "reason": "r"}})
    r = spread.rows.set_index("obs_id").loc["vol-1"]
    assert (r["year"], r["year_end"]) == (2016, 2018)


@pytest.mark.parametrize("override, fragment", [
    ({"year": 2019, "reason": "r", "year_end": 2018}, "year_end 2018 is before year 2019"),
    ({"unit": "executions", "reason": "r"}, "unit 'executions' is not allowed in family volumes"),
    ({"reason": "nothing"}, "an override must set at least one of"),
    ({"kind": "guess", "reason": "r"}, "expected one of 'reported'"),
])
def test_bad_overrides_are_refused(observations, baseline, override, fragment):
    with pytest.raises(ScenarioError) as err:
        _ev(observations, baseline, overrides={"vol-1": override})
    assert fragment in str(err.value)


def test_override_shown_in_manifest_and_assumptions(observations, baseline):
    from analysis.report.run import assumptions, scenario_settings

    sc = baseline.with_overrides({"overrides": {"vol-2": {"kind": "estimate", "reason": "yearly"}},
                                  "evidence.rules.exclude_organs": ["liver"]})
    text = " ".join(assumptions(sc))
    assert "Row vol-2 re-read by the scenario (overrides): kind = estimate (yearly)." in text
    assert "exclude organs: liver" in text
    settings = scenario_settings(sc).set_index("key")
    assert settings.loc["overrides.vol-2.kind", "value"] == "estimate"
    assert bool(settings.loc["overrides.vol-2.kind", "differs"])


# ---- declared sources given directly ----------------------------------------------------------------

def test_fixed_supply_known_answers(observations, baseline):
    fixed = {"a": {"source": "all", "years": [2000, 2005], "from_obs": "vol-ref"},
             "b": {"source": "prisoners", "years": [2006, 2007], "per_year": 500.0},
             "c": {"source": "donors", "years": [2016, 2017], "total": 3000.0}}
    ev = _ev(observations, baseline, fixed_supply=fixed)
    years = ev.years
    # from_obs: the row's level, 18,000 over 1994-1999 = 3,000 a year, in each year of 2000-2005
    assert ev.fixed_supply["all"]["values"][(years <= 2005)].tolist() == [3000.0] * 6
    assert ev.fixed_supply["all"]["mask"].sum() == 6
    assert ev.fixed_supply["prisoners"]["values"][(years >= 2006) & (years <= 2007)].tolist() == [500.0, 500.0]
    assert ev.fixed_supply["donors"]["values"][(years >= 2016) & (years <= 2017)].tolist() == [1500.0, 1500.0]
    import pymc as pm

    from analysis.model.build import build_model

    model = build_model(ev, baseline.with_overrides({"fixed_supply": fixed}))
    supply, p_decl, d_org, liv = pm.draw([model["supply"], model["prisoner_organs_declared"],
                                          model["donor_organs"], model["living"]], random_seed=1)
    assert np.allclose(supply[:6], 3000.0)  # the whole declared supply, fixed
    assert np.allclose(p_decl[6:8], 500.0) and np.allclose(d_org[16:18], 1500.0)
    free = ~np.isin(years, [2000, 2001, 2002, 2003, 2004, 2005])
    assert np.allclose(supply[free], (p_decl + d_org + liv)[free])  # elsewhere the model's sources
    assert not np.allclose(p_decl[8:15], 500.0)


@pytest.mark.parametrize("entry, fragment", [
    ({"source": "all", "years": [2000, 2001], "per_year": 1.0, "total": 2.0}, "set exactly one of per_year"),
    ({"source": "all", "years": [2001, 2000], "per_year": 1.0}, "ends before it starts"),
    ({"source": "all", "years": [1990, 2001], "per_year": 1.0}, "reaches outside the model's years"),
    ({"source": "bank", "years": [2000, 2001], "per_year": 1.0}, "expected one of 'all'"),
])
def test_bad_fixed_supply_is_refused(observations, baseline, entry, fragment):
    with pytest.raises(ScenarioError) as err:
        _ev(observations, baseline, fixed_supply={"x": entry})
    assert fragment in str(err.value)


def test_override_vocabulary_matches_the_data_rules():
    assert list(scenario_spec.ROW_KINDS) == rules.KINDS
    assert list(scenario_spec.ROW_UNITS) == rules.UNITS
    assert list(scenario_spec.ROW_QUALIFIERS) == rules.QUALIFIERS


# ---- tgap replicate ------------------------------------------------------------------------------

def test_literature_scenarios_load_and_name_cited_rows():
    names = literature()
    assert {"literature.km2007", "literature.kgm2016", "literature.official_narrative"} <= set(names)
    raw = pd.concat([pd.read_csv(f"data/raw/{f}") for f in ("volumes.csv", "living_and_share.csv")])
    for name in names:
        sc = load_scenario(name)
        assert sc.data["replication"], name
        for h in sc.data["replication"].values():
            assert set(h["source_obs"]) <= set(raw["obs_id"]), name
        for f in sc.data.get("fixed_supply", {}).values():
            assert f.get("from_obs") in set(raw["obs_id"])


def test_reproduced_rule():
    from analysis.sensitivity.replicate import reproduced

    assert reproduced(41500, 41500, 30000, 40000, 50000) == "yes"
    assert reproduced(41500, 41500, 42000, 45000, 50000) == "no"
    assert reproduced(60000, 100000, 10000, 70000, 200000) == "yes"
    assert reproduced(60000, 100000, 10000, 20000, 200000) == "no"
    assert reproduced(None, None, 0, 1, 2) == "n/a"


def test_scenario_diff_names_the_keys(baseline):
    from analysis.sensitivity.replicate import scenario_diff

    diff = scenario_diff(load_scenario("literature.km2007"), baseline)
    assert 'evidence.rules.include_series: [] -> ["km2006_official_cited"]' in diff
    assert "evidence.volume.official.bias: Normal(mu=0.0, sigma=0.3) -> Fixed(value=0.0)" in diff
    assert "fixed_supply.identified_sources.from_obs: (not set) -> vol-2000-causeskm-identified-sources" in diff
    assert not any(d.startswith(("replication.", "name", "description")) for d in diff)


def test_replicate_quick_on_shipped_data(monkeypatch, tmp_path):
    """`tgap replicate --quick` on the shipped data, sampler mocked (prior draws stand in for the
    posterior): the table's structure, not its numbers."""
    import analysis.model.fit as fit
    from tests.test_fit_plumbing import fake_sample

    monkeypatch.setattr(fit, "_sample", fake_sample)
    monkeypatch.setattr(fit, "CACHE_DIR", tmp_path / "cache")
    import analysis.runtime as runtime

    monkeypatch.setattr(runtime, "CACHE_DIR", tmp_path / "cache")
    out = tmp_path / "rep"
    res = runner.invoke(app, ["replicate", "--quick", "--draws", "20", "--chains", "1", "--out", str(out)])
    assert res.exit_code == 0, res.stdout + res.stderr
    from analysis.io import read_csv
    from analysis.sensitivity.replicate import COLUMNS

    table = read_csv(out / "replication.csv")
    assert list(table.columns) == COLUMNS
    expected = sum(len(load_scenario(n).data["replication"]) for n in literature())
    assert len(table) == expected
    assert set(table["scenario"]) == set(literature())
    assert (table["status"] == "ok").all(), table["error"].tolist()
    assert set(table["reproduced"]) <= {"yes", "no", "n/a"}
    for col in ("tgap_median", "tgap_q05", "tgap_q95", "baseline_median"):
        assert table[col].notna().all()
    assert (table["tgap_q05"] <= table["tgap_median"]).all() and (table["tgap_median"] <= table["tgap_q95"]).all()
    km = table[table["scenario"] == "literature.km2007"].iloc[0]
    assert km["published_low"] == 41500 and "fixed_supply.identified_sources.source" in km["keys_changed"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["quick"] is True and set(manifest["scenarios"]) == set(literature())
    assert "| Kilgour & Matas 2007 |" in (out / "replication.md").read_text()
    assert "[1/" in res.stderr or "replicate" in res.stderr  # progress shown
    from analysis.sensitivity.replicate import report_fragment

    html = report_fragment(out)  # the report's section (inside "Sensitivity")
    assert "Published analyses under their own assumptions" in html and "Kilgour &amp; Matas 2007" in html
    assert "Quick draws: not for citation." in html
    with pytest.raises(FileNotFoundError):
        report_fragment(tmp_path / "none")
