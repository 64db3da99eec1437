"""Two reviewer keys of issue 15, each on a small case with a known answer: a series' or origin's
own bias and noise in place of its evidence class's (``evidence.series_overrides``,
``evidence.origin_overrides``), and recorded minimums read as counts
(``evidence.rules.minimums_as_counts``). Log densities are evaluated at a point, never sampled
(one CLI fit with the sampler mocked checks the manifest and the exit codes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model.build import build_model
from analysis.model.evidence import build_evidence
from analysis.model.inputs import model_inputs, structure
from analysis.scenarios import ScenarioError, load_scenario
from tests import conftest
from tests.conftest import obs, write_raw

runner = CliRunner()
FAST = "FAST_COMPILE"  # a log density evaluated once: no C compilation (the same numbers)
SERIES = "evidence.series_overrides"
ORIGINS = "evidence.origin_overrides"
# recorded minimums added to the fixture data: a whole-year one and a partial-year one
MINIMUMS = [
    obs("exe-min", "amnesty_recorded", 2014, 1000, "executions", "lower_bound", "S-NGO",
        "at least 1,000 executions in 2014", qualifier="over"),
    obs("exe-min-partial", "amnesty_recorded_partial", 2015, 300, "executions", "lower_bound", "S-NGO",
        "at least 300 executed in the first five months", qualifier="over", flag="partial_year"),
]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def _raw(path):
    saved = {k: list(v) for k, v in conftest.FAMILY_ROWS.items()}
    try:
        conftest.FAMILY_ROWS["executions"].extend(MINIMUMS)
        return write_raw(path)
    finally:
        conftest.FAMILY_ROWS.clear()
        conftest.FAMILY_ROWS.update(saved)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return _raw(tmp_path_factory.mktemp("reviewer_keys") / "raw")


@pytest.fixture(scope="module")
def observations(raw):
    return tidy_observations(validate(raw))


def _rows(ev):
    return ev.rows.set_index("obs_id")


def _at_point(model, outs):
    """Values of ``outs`` (tensors or variable names) at the model's initial point."""
    point = model.initial_point()
    graphs = model.replace_rvs_by_values([model[o] if isinstance(o, str) else o for o in outs])
    fn = model.compile_fn(graphs, inputs=model.value_vars, on_unused_input="ignore", point_fn=False, mode=FAST)
    return point, fn(*[point[v.name] for v in model.value_vars])


def _row_logp(model, point):
    """Per count row: its term of the log density at ``point`` (the CustomDist obs_count)."""
    lp = model.logp(vars=[model["obs_count"]], sum=False)[0]
    fn = model.compile_fn(lp, inputs=model.value_vars, on_unused_input="ignore", point_fn=False, mode=FAST)
    return np.asarray(fn(*[point[v.name] for v in model.value_vars]))


# ---- evidence.series_overrides / evidence.origin_overrides ----------------------------------------

def test_override_rows_get_their_own_bias_variable_and_the_others_keep_the_class(observations, baseline):
    sc = baseline.with_overrides({SERIES: {"official_total": {"bias": {"dist": "Normal", "mu": 0.2, "sigma": 0.05}}}})
    ev = build_evidence(observations, sc)
    r = _rows(ev)
    assert r.loc["vol-1", "bias_override"] == "series:official_total"
    assert (r.drop("vol-1")["bias_override"] == "").all() and (r["noise_override"] == "").all()
    model = build_model(ev, sc)
    assert list(model.coords["bias_override"]) == ["series:official_total"]
    assert "bias_override_normal" in model.named_vars and "noise_override_lognormal" not in model.named_vars
    var = model["bias_override_normal"]
    assert (model["bias_override_normal__mu"].get_value().tolist(),
            model["bias_override_normal__sigma"].get_value().tolist()) == ([0.2], [0.05])
    # its prior is N(0.2, 0.05): the variable's log density at 0.3 and at 0.2
    import pymc as pm

    for x in (0.3, 0.2):
        assert float(pm.logp(var, np.array([x])).eval()[0]) == pytest.approx(stats.norm.logpdf(x, 0.2, 0.05), rel=1e-9)
    # the class bias is unchanged: the same variable with the baseline's prior as without the override
    plain = build_model(build_evidence(observations, baseline), baseline)
    assert model["bias_normal"].type.shape == plain["bias_normal"].type.shape
    assert np.array_equal(model["bias_normal__sigma"].get_value(), plain["bias_normal__sigma"].get_value())


def test_fixed_bias_and_noise_give_the_hand_computed_log_density(observations, baseline):
    """A series' own bias Fixed at 0.3 and noise Fixed at 0.02: at one point, the series' row has the
    normal log density log N(log 20,201; log V_2018 + 0.3, 0.02) and every other term of the log
    density equals the model without the override."""
    sc = baseline.with_overrides({SERIES: {"official_total": {"bias": 0.3, "noise": {"dist": "Fixed", "value": 0.02}}}})
    ev = build_evidence(observations, sc)
    ev0 = build_evidence(observations, baseline)
    model, plain = build_model(ev, sc), build_model(ev0, baseline)
    point, (volume,) = _at_point(model, ["volume"])
    assert set(point) == set(plain.initial_point())  # a Fixed override adds no variable
    rows = list(model.coords["count_obs"])
    i = rows.index("vol-1")
    r = _rows(ev).loc["vol-1"]
    years = list(ev.years)
    expected = stats.norm.logpdf(np.log(20201), np.log(volume[years.index(2018)]) + 0.3,
                                 np.hypot(0.02 * r["noise_scale"], r["extra_sd"]))
    lp, lp0 = _row_logp(model, point), _row_logp(plain, point)
    assert lp[i] == pytest.approx(expected, rel=1e-10)
    assert lp[i] != pytest.approx(lp0[i], rel=1e-3)  # the override did change the row
    others = np.arange(len(rows)) != i
    assert np.array_equal(lp[others], lp0[others])
    total, total0 = model.compile_logp(mode=FAST)(point), plain.compile_logp(mode=FAST)(point)
    assert total - total0 == pytest.approx(lp[i] - lp0[i], abs=1e-8)


def test_origin_override_and_series_precedence(observations, baseline):
    sc = baseline.with_overrides({SERIES: {"official_total": {"bias": 0.1}},
                                  ORIGINS: {"nhc": {"bias": {"dist": "Normal", "mu": -0.1, "sigma": 0.02},
                                                    "noise": {"dist": "LogNormal", "mu": -3.0, "sigma": 0.1}}}})
    ev = build_evidence(observations, sc)
    r = _rows(ev)
    nhc = r[r["origin"] == "nhc"].index
    assert set(nhc) == {"vol-1", "don-1", "don-2"}
    # the series override wins for the bias of its own row; the origin's bias takes the other rows
    assert r.loc["vol-1", "bias_override"] == "series:official_total"
    assert set(r.loc[["don-1", "don-2"], "bias_override"]) == {"origin:nhc"}
    assert set(r.loc[nhc, "noise_override"]) == {"origin:nhc"}  # no series noise: the origin's
    assert (r.drop(nhc)[["bias_override", "noise_override"]] == "").all().all()
    model = build_model(ev, sc)
    assert list(model.coords["bias_override"]) == ["origin:nhc", "series:official_total"]
    assert list(model.coords["noise_override"]) == ["origin:nhc"]
    # the rows' bias and noise: each row's own at a point
    point, (own_bias, own_noise, cls_noise) = _at_point(model, ["bias_by_override", "noise_by_override",
                                                               "noise_by_class"])
    assert own_bias[1] == 0.1 and -0.2 < own_bias[0] < 0.0
    lp = _row_logp(model, point)
    i = list(model.coords["count_obs"]).index("don-1")
    _, (donors,) = _at_point(model, ["donors"])
    d = r.loc["don-1"]
    expected = stats.norm.logpdf(np.log(6302), np.log(donors[list(ev.years).index(2018)]) + own_bias[0],
                                 np.hypot(own_noise[0] * d["noise_scale"], d["extra_sd"]))
    assert lp[i] == pytest.approx(expected, rel=1e-10)
    # structure: a different compiled model from the baseline's, and the prior numbers are data
    assert structure(ev, sc) != structure(build_evidence(observations, baseline), baseline)
    inputs = model_inputs(ev, sc)
    assert inputs["bias_override_normal__mu"].tolist() == [-0.1]
    assert inputs["bias_override_fixed__value"].tolist() == [0.1]
    assert inputs["noise_override_lognormal__sigma"].tolist() == [0.1]


def test_no_override_leaves_the_evidence_and_the_model_as_they_were(observations, baseline):
    ev = build_evidence(observations, baseline)
    assert "bias_override" not in ev.rows and "noise_override" not in ev.rows
    assert not any("override" in k for k in model_inputs(ev, baseline))
    assert '"bias_override' not in structure(ev, baseline)


@pytest.mark.parametrize("entry, key, fragment", [
    ({SERIES: {"no_such_series": {"bias": 0.1}}}, f"{SERIES}.no_such_series",
     "unknown series 'no_such_series'; allowed: amnesty_recorded, amnesty_recorded_partial, dui_hua_estimate"),
    ({ORIGINS: {"nobody": {"noise": 0.1}}}, f"{ORIGINS}.nobody", "unknown origin 'nobody'; allowed: dui_hua, kgm2016, nhc"),
    # a series whose rows are all excluded
    ({SERIES: {"official_total": {"bias": 0.1}}, "evidence.rules.exclude_series": ["official_total"]},
     f"{SERIES}.official_total", "matches no count row of the likelihood (its 1 rows are all excluded, e.g. vol-1: "
     "series excluded by the scenario)"),
    # a share statement (tested, not in the likelihood) has no class bias to replace
    ({SERIES: {"share_living_related": {"bias": 0.1}}}, f"{SERIES}.share_living_related",
     "matches no count row of the likelihood"),
    ({SERIES: {"share_living_related": {"bias": 0.1}}, "evidence.shares.role": "evidence"},
     f"{SERIES}.share_living_related", "share statements, which keep evidence.shares.bias"),
    # a capacity is an upper bound without a class bias: a bias override would change nothing
    ({SERIES: {"kgm_update": {"bias": 0.1}}}, f"{SERIES}.kgm_update.bias", "changes no row: of the 1 count rows"),
    ({SERIES: {"kgm_update": {"noise": 0.1}}}, f"{SERIES}.kgm_update.noise", "all are bounds, whose sd is"),
    # the origin's bias shadowed by the series' on its only row
    ({SERIES: {"dui_hua_estimate": {"bias": 0.1}}, ORIGINS: {"dui_hua": {"bias": 0.2}},
      "evidence.rules.exclude_series": ["amnesty_recorded", "amnesty_recorded_partial"]},
     f"{ORIGINS}.dui_hua.bias", "every one is taken by a series override of its bias"),
])
def test_overrides_that_name_nothing_or_change_nothing_are_refused(observations, baseline, entry, key, fragment):
    with pytest.raises(ScenarioError) as err:
        build_evidence(observations, baseline.with_overrides(entry))
    assert key in [k for _, k, _ in err.value.problems]
    assert fragment in str(err.value)


@pytest.mark.parametrize("entry, key, fragment", [
    ({"noise": {"dist": "Normal", "mu": 0.1, "sigma": 0.01}}, "noise", "a positive quantity needs a positive distribution"),
    ({"noise": -0.1}, "noise", "a positive quantity needs a positive distribution; Fixed reaches -0.1 <= 0"),
    ({"noise": 0.0}, "noise", "Fixed reaches 0.0 <= 0"),
    ({"bias": float("nan")}, "bias", "must be a finite number, found nan"),
    ({"bias": float("inf")}, "bias", "must be a finite number, found inf"),
    ({"bias": 9.0}, "bias", "a prior for this key (log ratio) must lie within [-5, 5]"),
    ({"bias": {"dist": "Normal", "mu": 0.0, "sigma": -1.0}}, "bias.sigma", "must be > 0 for Normal"),
    ({"bias": "large"}, "bias", "expected a number (a fixed value) or a prior table"),
    ({"note": "nothing set"}, "", "an override must set bias, noise or both"),
    ({"bias": 0.1, "scale": 2.0}, "scale", "unknown key; allowed: bias, noise, note"),
])
def test_bad_override_values_are_refused(baseline, entry, key, fragment):
    with pytest.raises(ScenarioError) as err:
        baseline.with_overrides({SERIES: {"official_total": entry}})
    full = f"{SERIES}.official_total" + (f".{key}" if key else "")
    assert any(k == full and fragment in p for _, k, p in err.value.problems), str(err.value)


# ---- evidence.rules.minimums_as_counts --------------------------------------------------------------

def test_minimums_as_counts_turns_recorded_minimums_into_point_counts(observations, baseline):
    off = _rows(build_evidence(observations, baseline))
    assert baseline.get("evidence.rules.minimums_as_counts") is False
    assert (off.loc["exe-min", "mode"], off.loc["exe-min", "lo"], bool(off.loc["exe-min", "biased"])) \
        == ("bound", pytest.approx(np.log(1000)), False)
    assert off.loc["exe-min", "hi"] >= 999 and off.loc["exe-min", "reading"] == "minimum"
    sc = baseline.with_overrides({"evidence.rules.minimums_as_counts": True})
    ev = build_evidence(observations, sc)
    on = _rows(ev)
    r = on.loc["exe-min"]
    assert (r["mode"], r["lo"], r["hi"], bool(r["biased"]), r["reading"]) == (
        "point", np.log(1000), np.log(1000), True, "level")
    assert r["extra_sd"] == 0.0  # "at least" is not "about"
    # a partial-year minimum stays a bound of its year
    assert off.loc["exe-min-partial"].drop("reading").equals(on.loc["exe-min-partial"].drop("reading"))
    assert on.loc["exe-min-partial", "mode"] == "bound"
    # every other row is untouched
    same = off.drop(["exe-min"])
    assert same.equals(on.drop(["exe-min"]).loc[same.index])
    # in the model: the row's term is the class's normal density at the count, with the class bias
    model = build_model(ev, sc)
    point, (ex, bias, noise) = _at_point(model, ["executions", "bias_by_class", "noise_by_class"])
    c = list(model.coords["evidence_class"]).index("executions.independent")
    i = list(model.coords["count_obs"]).index("exe-min")
    expected = stats.norm.logpdf(np.log(1000), np.log(ex[list(ev.years).index(2014)]) + bias[c],
                                 noise[c] * r["noise_scale"])
    assert _row_logp(model, point)[i] == pytest.approx(expected, rel=1e-10)


def test_minimums_switch_off_is_the_baseline(observations, baseline):
    """The switch at false is the baseline: the same rows, inputs and structure as a scenario built
    without it (evidence from the same data, a copy of the baseline with the key removed is refused
    as a missing key, so the comparison is between false and the resolved baseline itself)."""
    off = baseline.with_overrides({"evidence.rules.minimums_as_counts": False})
    a, b = build_evidence(observations, baseline), build_evidence(observations, off)
    assert a.rows.equals(b.rows)
    ia, ib = model_inputs(a, baseline), model_inputs(b, off)
    assert ia.keys() == ib.keys() and all(np.array_equal(ia[k], ib[k]) for k in ia)
    assert structure(a, baseline) == structure(b, off)
    on = baseline.with_overrides({"evidence.rules.minimums_as_counts": True})
    assert structure(build_evidence(observations, on), on) != structure(a, baseline)


# ---- shown to the reader: assumptions, settings, replicate's diff, the manifest; exit 2 -------------

def test_overrides_are_listed_in_the_assumptions_and_the_scenario_diff(baseline):
    from analysis.report.run import assumptions, scenario_settings
    from analysis.sensitivity.replicate import scenario_diff

    sc = baseline.with_overrides({SERIES: {"official_total": {"bias": {"dist": "Normal", "mu": 0.2, "sigma": 0.05},
                                                              "note": "face value"}},
                                  ORIGINS: {"nhc": {"noise": 0.02}},
                                  "evidence.rules.minimums_as_counts": True})
    text = " ".join(assumptions(sc))
    assert ("The rows of series official_total have their own bias in place of their evidence class's "
            "(evidence.series_overrides.official_total): bias Normal(mu=0.2, sigma=0.05) (face value).") in text
    assert "The rows of origin nhc have their own noise" in text and "noise Fixed(value=0.02)" in text
    assert "Recorded minimums (kind lower_bound) are read as counts of their class" in text
    assert "individual series have no bias of their own" not in text
    assert "individual series have no bias of their own" in " ".join(assumptions(baseline))
    diff = scenario_diff(sc, baseline)
    assert "evidence.series_overrides.official_total.bias: (not set) -> Normal(mu=0.2, sigma=0.05)" in diff
    assert "evidence.origin_overrides.nhc.noise: (not set) -> 0.02" in diff
    assert "evidence.rules.minimums_as_counts: False -> True" in diff
    settings = scenario_settings(sc).set_index("key")
    assert bool(settings.loc["evidence.series_overrides.official_total.bias", "differs"])


def test_cli_fit_records_the_overrides_and_refuses_typos(raw, tmp_path, monkeypatch):
    import analysis.model.fit as fit
    from tests.test_fit_plumbing import fake_sample

    monkeypatch.setattr(fit, "_sample", fake_sample)
    monkeypatch.setattr(fit, "CACHE_DIR", tmp_path / "cache")
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\n[evidence.series_overrides.oficial_total]\nbias = 0.1\n')
    args = ["--data-dir", str(raw), "--derived", str(tmp_path / "derived"), "--quick", "--draws", "20",
            "--chains", "1"]
    res = runner.invoke(app, ["fit", "-s", str(bad), "--out", str(tmp_path / "bad"), *args])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert ("bad.toml: evidence.series_overrides.oficial_total: unknown series 'oficial_total'; allowed: "
            in res.stderr) and "official_total" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "bad").exists()
    good = tmp_path / "good.toml"
    good.write_text('extends = "baseline"\n[evidence.rules]\nminimums_as_counts = true\n'
                    '[evidence.series_overrides.official_total]\nbias = { dist = "Normal", mu = 0.2, sigma = 0.05 }\n'
                    'note = "face value"\n')
    res = runner.invoke(app, ["fit", "-s", str(good), "--out", str(tmp_path / "good"), *args])
    assert res.exit_code == 0, res.stdout + res.stderr
    manifest = json.loads((tmp_path / "good" / "manifest.json").read_text())
    assert manifest["error_overrides"] == [{"key": "evidence.series_overrides.official_total.bias", "part": "bias",
                                            "prior": {"dist": "Normal", "mu": 0.2, "sigma": 0.05},
                                            "rows": ["vol-1"], "note": "face value"}]
    from analysis.io import read_csv

    used = read_csv(tmp_path / "good" / "evidence_used.csv").set_index("obs_id")
    assert used.loc["exe-min", "mode"] == "point" and used.loc["vol-1", "bias_override"] == "series:official_total"
