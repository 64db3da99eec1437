"""World generators (issue 14): each world produces what it claims, in the template's structure,
and its datasets pass `tgap check`. No sampling (the baseline world, a prior-predictive draw of the
compiled model, is not generated here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data.check import load_raw, validate
from analysis.data.ingest import tidy_observations
from analysis.model.claims import evidence_group
from analysis.model.evidence import build_evidence
from analysis.model.simulate import write_simulation
from analysis.model.worlds import WORLDS, generate, load_world
from analysis.scenarios import ScenarioError, load_scenario
from tests.conftest import REPO

runner = CliRunner()


@pytest.fixture(scope="module")
def template():
    return tidy_observations(validate(REPO / "data" / "raw"))


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def _gen(name, template, baseline, n=3, seed=4):
    return generate(load_world(name), template, baseline, seed, n)


@pytest.mark.parametrize("name", ["official", "hidden_volume", "inflated_donors", "relays"])
def test_world_keeps_template_structure_and_passes_check(name, template, baseline, tmp_path):
    datasets, sources, tev = _gen(name, template, baseline, n=2)
    ids = list(tev.rows["obs_id"])
    for obs, truth in datasets:
        ev = build_evidence(obs, baseline, only=ids)
        assert list(ev.rows["obs_id"]) == ids
        assert (ev.rows["mode"].to_numpy() == tev.rows["mode"].to_numpy()).all()
        assert list(truth["year"]) == list(tev.years)
        assert np.allclose(truth["gap"], truth["volume"] - truth["supply"])
    write_simulation(datasets[0][0], sources, datasets[0][1], tmp_path)
    raw = load_raw(tmp_path)
    assert [str(p) for p in raw.problems] == []
    assert (tmp_path / "truth.csv").exists()


def test_official_world_has_no_gap(template, baseline):
    datasets, _, _ = _gen("official", template, baseline, n=5)
    for _, truth in datasets:
        assert np.abs(truth["gap"]).max() < 1e-6 * truth["volume"].max()
        # organs per executed person rise as the narrative needs (2000 -> 2014)
        c = truth.set_index("year")["organs_per_executed"]
        assert c[2014] > c[2000]


def test_hidden_volume_official_figures_in_band_true_volume_not(template, baseline):
    world = load_world("hidden_volume")
    band, (a, b) = world.get("official_volume.band"), (world.get("hidden.start"), world.get("hidden.end"))
    datasets, _, _ = _gen("hidden_volume", template, baseline, n=4)
    for obs, truth in datasets:
        t = truth.set_index("year")
        official = obs["origin_kind"].map(evidence_group) == "official"
        pub = obs[(obs["family"] == "volumes") & official
                  & (obs["organ"].fillna("all").isin(["all", ""])) & (obs["donor_type"].fillna("all").isin(["all", ""]))
                  & (obs["year"] == obs["year_end"]) & obs["year"].between(a, b)
                  & obs["qualifier"].isin(["exact", "approx"]) & obs["value"].notna()]
        pub = pub[~pub["kind"].isin(["lower_bound", "upper_bound", "capacity", "cumulative"])]
        assert len(pub) >= 4
        formula = t.loc[pub["year"], "official_volume"].to_numpy()
        ratio = pub["value"].to_numpy(float) / formula
        assert ((ratio > 1 - band) & (ratio < 1 + band)).all(), ratio
        true = t.loc[a:b, "volume"] / t.loc[a:b, "official_volume"]
        assert (true > 1 + band).all()
        assert t.loc[a:b, "volume"].between(60000 * 0.8, 100000 * 1.25).all()


def test_inflated_donors_reported_over_true_is_k(template, baseline):
    datasets, _, _ = _gen("inflated_donors", template, baseline, n=4)
    for obs, truth in datasets:
        k = truth["k"].iloc[0]
        assert 1.1 < k < 1.5
        d = truth[truth["donors"] > 0]
        assert np.allclose(d["donors_reported"] / d["donors"], k)
        t = truth.set_index("year")
        rows = obs[(obs["family"] == "donation") & (obs["unit"] == "donors") & (obs["year"] == obs["year_end"])
                   & (obs["qualifier"] == "exact") & obs["value"].notna()
                   & ~obs["kind"].isin(["lower_bound", "upper_bound", "cumulative"])]
        assert len(rows) >= 5
        ratio = np.median(rows["value"].to_numpy(float) / t.loc[rows["year"], "donors"].to_numpy())
        assert abs(ratio / k - 1) < 0.1
        # reported organs per donor drift upward
        y = d.set_index("year")["organs_per_donor_reported"] / d.set_index("year")["organs_per_donor"]
        assert y.iloc[-1] > y.iloc[0] * 1.1


def test_relays_copy_one_figure_per_claim(template, baseline):
    (obs, _), = _gen("relays", template, baseline, n=1)[0]
    pts = obs[(obs["claim"] != "") & obs["value"].notna() & obs["qualifier"].isin(["exact", "approx"])
              & ~obs["kind"].isin(["lower_bound", "upper_bound"])]
    groups = pts.groupby("claim")["value"]
    multi = groups.count()[groups.count() >= 2]
    assert len(multi) >= 20
    spread = (groups.max() / groups.min())[multi.index]
    assert (spread < 1.1).all()  # copies differ by rounding only
    assert (spread > 1).any()  # and rounding does change some
    assert set(obs["qualifier"]) >= {"exact", "approx"}


def test_bad_world_name_refused_with_allowed_names(tmp_path):
    res = runner.invoke(app, ["simulate", "--world", "nowhere", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "world error: nowhere: (top level): no such world; allowed worlds: " + ", ".join(WORLDS) in res.output
    assert not (tmp_path / "o").exists()


def test_bad_world_file_refused_naming_file_and_key(tmp_path):
    src = (REPO / "analysis" / "scenarios" / "worlds" / "official.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(src.replace("[shares]", "[shares]\ncolour = 1\n#"))
    with pytest.raises(ScenarioError) as exc:
        load_world(bad)
    assert str(exc.value) == "bad.toml: shares.colour: unknown key; allowed: noise"
    res = runner.invoke(app, ["simulate", "--world", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "world error: bad.toml: shares.colour: unknown key; allowed: noise" in res.output
    bad.write_text(src.replace("[reports.volume_independent]", "[reports.volume_officail]"))
    with pytest.raises(ScenarioError, match=r"bad.toml: reports.volume_officail: unknown report class; allowed: default, volume_official"):
        load_world(bad)
    bad.write_text(src.replace('generator = "official"', 'generator = "utopia"'))
    with pytest.raises(ScenarioError, match="bad.toml: generator: expected one of baseline, official, hidden_volume"):
        load_world(bad)


def test_every_world_file_loads():
    for name in WORLDS:
        assert load_world(name).name == name


def test_world_draws_are_reproducible(template, baseline):
    (a, ta), = _gen("official", template, baseline, n=1, seed=9)[0]
    (b, tb), = _gen("official", template, baseline, n=1, seed=9)[0]
    pd.testing.assert_frame_equal(ta, tb)
    pd.testing.assert_frame_equal(a, b)
