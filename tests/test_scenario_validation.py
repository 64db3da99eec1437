"""Scenario values the model cannot use are refused before any fit: every problem at once, each
naming file and key, exit 2, never a traceback (analysis/scenarios/__init__.py, spec.py)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.scenarios import ScenarioError, load_scenario

runner = CliRunner()

# name -> (scenario file text, every problem line, in order)
BAD = {
    'nan prior mu': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = nan, sigma = 0.1 }\n',
        ['bad.toml: supply.organs_per_donor.mu: must be a finite number, found nan']),
    'inf prior sigma': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = 1.0, sigma = inf }\n',
        ['bad.toml: supply.organs_per_donor.sigma: must be a finite number, found inf']),
    '-inf normal mu': ('extends = "baseline"\n[latent.executions]\ninit = { dist = "Normal", mu = -inf, sigma = 1.0 }\n',
        ['bad.toml: latent.executions.init.mu: must be a finite number, found -inf']),
    'nan fixed': ('extends = "baseline"\n[supply]\ndonor_report_inflation = { dist = "Fixed", value = nan }\n',
        ['bad.toml: supply.donor_report_inflation.value: must be a finite number, found nan']),
    'inf beta': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "Beta", alpha = inf, beta = 2.0 }\n',
        ['bad.toml: supply.share_executed_used.alpha: must be a finite number, found inf']),
    'nan uniform': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "Uniform", lower = nan, upper = 1.0 }\n',
        ['bad.toml: supply.share_executed_used.lower: must be a finite number, found nan']),
    'inf organ mix': ('extends = "baseline"\n[organ_mix.all]\nkidney = inf\n',
        ['bad.toml: organ_mix.all.kidney: must be a finite number, found inf']),
    'nan organ mix': ('extends = "baseline"\n[organ_mix.living]\nliver = nan\n',
        ['bad.toml: organ_mix.living.liver: must be a finite number, found nan']),
    'zero organ mix': ('extends = "baseline"\n[organ_mix.all]\nheart = 0.0\n',
        ['bad.toml: organ_mix.all.heart: expected a number > 0, found 0.0']),
    'inf noise': ('extends = "baseline"\n[evidence.shares]\nnoise = inf\n',
        ['bad.toml: evidence.shares.noise: must be a finite number, found inf']),
    'nan softness': ('extends = "baseline"\n[evidence.rules]\nlower_bound_softness = nan\n',
        ['bad.toml: evidence.rules.lower_bound_softness: must be a finite number, found nan']),
    'inf approx sd': ('extends = "baseline"\n[evidence.rules]\napprox_extra_sd = inf\n',
        ['bad.toml: evidence.rules.approx_extra_sd: must be a finite number, found inf']),
    'nan flag scale': ('extends = "baseline"\n[flags.secondary]\nnoise_scale = nan\n',
        ['bad.toml: flags.secondary.noise_scale: must be a finite number, found nan']),
    'inf rhat': ('extends = "baseline"\n[diagnostics]\nmax_rhat = inf\n',
        ['bad.toml: diagnostics.max_rhat: must be a finite number, found inf']),
    'nan ess': ('extends = "baseline"\n[diagnostics]\nmin_ess_bulk = nan\n',
        ['bad.toml: diagnostics.min_ess_bulk: must be a finite number, found nan']),
    'normal on share': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "Normal", mu = 0.5, sigma = 0.1 }\n',
        ['bad.toml: supply.share_executed_used: a share needs a distribution on [0, 1]; allowed: Beta, Uniform within [0, 1], Fixed in [0, 1]; found Normal']),
    'lognormal on share': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "LogNormal", mu = -1.0, sigma = 0.1 }\n',
        ['bad.toml: supply.share_executed_used: a share needs a distribution on [0, 1]; allowed: Beta, Uniform within [0, 1], Fixed in [0, 1]; found LogNormal']),
    'uniform share beyond 1': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "Uniform", lower = 0.5, upper = 1.5 }\n',
        ['bad.toml: supply.share_executed_used: a share needs a distribution on [0, 1]; Uniform reaches outside it']),
    'fixed share 2': ('extends = "baseline"\n[supply]\nshare_executed_used = { dist = "Fixed", value = 2.0 }\n',
        ['bad.toml: supply.share_executed_used: a share needs a distribution on [0, 1]; Fixed reaches outside it']),
    'normal organs per donor': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "Normal", mu = 2.8, sigma = 0.5 }\n',
        ['bad.toml: supply.organs_per_donor: a positive quantity needs a positive distribution; allowed: LogNormal, Gamma, HalfNormal, Beta, Uniform, Fixed; found Normal']),
    'uniform organs per executed from 0': ('extends = "baseline"\n[supply]\norgans_per_executed = { dist = "Uniform", lower = -1.0, upper = 3.0 }\n',
        ['bad.toml: supply.organs_per_executed: a positive quantity needs a positive distribution; Uniform reaches -1.0 <= 0']),
    'fixed inflation 0': ('extends = "baseline"\n[supply]\ndonor_report_inflation = { dist = "Fixed", value = 0.0 }\n',
        ['bad.toml: supply.donor_report_inflation: a positive quantity needs a positive distribution; Fixed reaches 0.0 <= 0']),
    'normal step': ('extends = "baseline"\n[latent.living]\nstep = { dist = "Normal", mu = 0.1, sigma = 0.1 }\n',
        ['bad.toml: latent.living.step: a positive quantity needs a positive distribution; allowed: LogNormal, Gamma, HalfNormal, Beta, Uniform, Fixed; found Normal']),
    'normal noise': ('extends = "baseline"\n[evidence.volume.official]\nnoise = { dist = "Normal", mu = 0.1, sigma = 0.1 }\n',
        ['bad.toml: evidence.volume.official.noise: a positive quantity needs a positive distribution; allowed: LogNormal, Gamma, HalfNormal, Beta, Uniform, Fixed; found Normal']),
    'fixed noise negative': ('extends = "baseline"\n[evidence.volume.official]\nnoise = { dist = "Fixed", value = -0.1 }\n',
        ['bad.toml: evidence.volume.official.noise: a positive quantity needs a positive distribution; Fixed reaches -0.1 <= 0']),
    'fixed init': ('extends = "baseline"\n[latent.donors]\ninit = { dist = "Fixed", value = 4.0 }\n',
        ['bad.toml: latent.donors.init: the initial value of a random walk needs a distribution (Fixed is not allowed here)']),
    'huge mu': ('extends = "baseline"\n[latent.deceased_volume]\ninit = { dist = "Normal", mu = 1000.0, sigma = 1.0 }\n',
        ['bad.toml: latent.deceased_volume.init.mu: must be in [-50, 50], found 1000.0']),
    'tiny sigma': ('extends = "baseline"\n[latent.deceased_volume]\ninit = { dist = "Normal", mu = 9.0, sigma = 1e-9 }\n',
        ['bad.toml: latent.deceased_volume.init.sigma: must be in [0.0001, 10000], found 1e-09']),
    'huge sigma': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = 1.0, sigma = 1e6 }\n',
        ['bad.toml: supply.organs_per_donor.sigma: must be in [0.0001, 10000], found 1000000.0']),
    'huge gamma': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "Gamma", alpha = 1e9, beta = 1.0 }\n',
        ['bad.toml: supply.organs_per_donor.alpha: must be in [0.0001, 10000], found 1000000000.0']),
    'years reversed': ('extends = "baseline"\n[years]\nstart = 2030\nend = 2000\nperiods = [[2000, 2005]]\n',
        ['bad.toml: years.end: years.end = 2000 is before years.start = 2030', 'bad.toml: years.periods[0]: period [2000, 2005] reaches outside years.start-years.end [2030, 2000]']),
    'start too early': ('extends = "baseline"\n[years]\nstart = 1800\n',
        ['bad.toml: years.start: must be a year in 1980-2030, found 1800']),
    'end too late': ('extends = "baseline"\n[years]\nend = 2100\n',
        ['bad.toml: years.end: must be a year in 1980-2030, found 2100', 'bad.toml: years.periods[2]: period [2015, latest] reaches outside years.start-years.end [2000, 2100]']),
    'period reversed': ('extends = "baseline"\n[years]\nperiods = [[2005, 2000], [2006, 2014]]\n',
        ['bad.toml: years.periods[0]: period [2005, 2000] ends before it starts']),
    'period latest first': ('extends = "baseline"\n[years]\nperiods = [["latest", 2014]]\n',
        ['bad.toml: years.periods[0]: period [latest, 2014] ends before it starts']),
    'periods overlap': ('extends = "baseline"\n[years]\nperiods = [[2000, 2010], [2006, 2014]]\n',
        ['bad.toml: years.periods[1]: periods must be in order and not overlap; [2006, 2014] starts by 2010']),
    'periods out of order': ('extends = "baseline"\n[years]\nperiods = [[2015, "latest"], [2000, 2005]]\n',
        ['bad.toml: years.periods[1]: periods must be in order and not overlap; [2000, 2005] starts by latest']),
    'period before start': ('extends = "baseline"\n[years]\nperiods = [[1990, 2005]]\n',
        ['bad.toml: years.periods[0]: period [1990, 2005] reaches outside years.start-years.end [2000, latest]']),
    'donation start far future': ('extends = "baseline"\n[declared]\ndonation_start = 3000\n',
        ['bad.toml: declared.donation_start: must be a year in 1980-2030, found 3000']),
    'prisoner until negative': ('extends = "baseline"\n[declared]\nprisoner_source_until = -5\n',
        ['bad.toml: declared.prisoner_source_until: must be a year in 1980-2030, found -5']),
    'draws 1e12': ('extends = "baseline"\n[sampler.quick]\ndraws = 1000000000000\n',
        ['bad.toml: sampler.quick.draws: must be at most 100,000, found 1000000000000']),
    'draws float': ('extends = "baseline"\n[sampler]\ndraws = 1e12\n',
        ['bad.toml: sampler.draws: expected an integer > 0, found 1000000000000.0']),
    'chains 100000': ('extends = "baseline"\n[sampler]\nchains = 100000\n',
        ['bad.toml: sampler.chains: must be at most 64, found 100000']),
    'tune huge': ('extends = "baseline"\n[sampler]\ntune = 10000000\n',
        ['bad.toml: sampler.tune: must be at most 100,000, found 10000000']),
    'quick chains huge': ('extends = "baseline"\n[sampler.quick]\nchains = 1000\n',
        ['bad.toml: sampler.quick.chains: must be at most 64, found 1000']),
    'target accept 1': ('extends = "baseline"\n[sampler]\ntarget_accept = 1.0\n',
        ['bad.toml: sampler.target_accept: must be in (0, 1), found 1.0']),
    'target accept 0': ('extends = "baseline"\n[sampler]\ntarget_accept = 0.0\n',
        ['bad.toml: sampler.target_accept: must be in (0, 1), found 0.0']),
    'seed negative': ('extends = "baseline"\n[sampler]\nseed = -1\n',
        ['bad.toml: sampler.seed: must be in 0-4294967295, found -1']),
    'seed huge': ('extends = "baseline"\n[sampler]\nseed = 99999999999999\n',
        ['bad.toml: sampler.seed: must be in 0-4294967295, found 99999999999999']),
    'max divergences negative': ('extends = "baseline"\n[diagnostics]\nmax_divergences = -100\n',
        ['bad.toml: diagnostics.max_divergences: must be >= 0, found -100']),
    'max rhat below 1': ('extends = "baseline"\n[diagnostics]\nmax_rhat = 0.9\n',
        ['bad.toml: diagnostics.max_rhat: must be >= 1 (R-hat is never below 1), found 0.9']),
    'name absolute path': ('extends = "baseline"\nname = "/abs/elsewhere"\n',
        ["bad.toml: name: '/abs/elsewhere' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'name parent path': ('extends = "baseline"\nname = "../../../x"\n',
        ["bad.toml: name: '../../../x' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'name with slash': ('extends = "baseline"\nname = "a/b"\n',
        ["bad.toml: name: 'a/b' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'name empty': ('extends = "baseline"\nname = ""\n',
        ["bad.toml: name: '' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'name hidden': ('extends = "baseline"\nname = ".hidden"\n',
        ["bad.toml: name: '.hidden' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'name with space': ('extends = "baseline"\nname = "my run"\n',
        ["bad.toml: name: 'my run' is not a name: use letters, digits, '_', '.', '-' (pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$); it names the output folder under reports/"]),
    'extends not a string': ('extends = 3\nname = "x"\n',
        ['bad.toml: extends: expected a string, found 3']),
    'dist not a string': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = 3, mu = 1.0, sigma = 0.1 }\n',
        ['bad.toml: supply.organs_per_donor.dist: unknown distribution 3; allowed: Normal, LogNormal, HalfNormal, Beta, Gamma, Uniform, Fixed']),
    'bool as number': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = true, sigma = 0.1 }\n',
        ['bad.toml: supply.organs_per_donor.mu: expected a number, found True']),
    'several at once': ('extends = "baseline"\n[sampler]\nchains = 0\ndraws = -1\n[diagnostics]\nmax_divergences = -1\n[supply]\nshare_executed_used = { dist = "Normal", mu = 0.5, sigma = nan }\n',
        ['bad.toml: sampler.chains: expected an integer > 0, found 0', 'bad.toml: sampler.draws: expected an integer > 0, found -1', 'bad.toml: supply.share_executed_used.sigma: must be a finite number, found nan', 'bad.toml: diagnostics.max_divergences: must be >= 0, found -1']),
    'init too high': ('extends = "baseline"\n[latent.executions]\ninit = { dist = "Normal", mu = 30.0, sigma = 1.0 }\n',
        ['bad.toml: latent.executions.init: 98% of this prior lies in [27.67, 32.33]; a prior for this key (log level) must lie within [-5, 20]']),
    'step too wide': ('extends = "baseline"\n[latent.executions]\nstep = { dist = "LogNormal", mu = 3.0, sigma = 0.5 }\n',
        ['bad.toml: latent.executions.step: 98% of this prior lies in [6.277, 64.28]; a prior for this key (sd) must lie within [0.001, 5]']),
    'bias too wide': ('extends = "baseline"\n[evidence.volume.official]\nbias = { dist = "Normal", mu = 0.0, sigma = 10.0 }\n',
        ['bad.toml: evidence.volume.official.bias: 98% of this prior lies in [-23.26, 23.26]; a prior for this key (log ratio) must lie within [-5, 5]']),
    'organs per donor 1000': ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = 7.0, sigma = 0.1 }\n',
        ['bad.toml: supply.organs_per_donor: 98% of this prior lies in [869, 1384]; a prior for this key (factor) must lie within [0.001, 100]']),
    'organ mix huge': ('extends = "baseline"\n[organ_mix.all]\nkidney = 1e9\n',
        ['bad.toml: organ_mix.all.kidney: must be in [0.01, 100000], found 1000000000.0']),
    'shares noise huge': ('extends = "baseline"\n[evidence.shares]\nnoise = 50.0\n',
        ['bad.toml: evidence.shares.noise: must be in [0.001, 5], found 50.0']),
    'flag noise scale huge': ('extends = "baseline"\n[flags.secondary]\nnoise_scale = 1e6\n',
        ['bad.toml: flags.secondary.noise_scale: must be in [0.001, 100], found 1000000.0']),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_scenario(tmp_path, case):
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).splitlines() == expected
    assert [(f, k) for f, k, _ in err.value.problems] == [tuple(e.split(": ", 2)[:2]) for e in expected]
    result = runner.invoke(app, ["scenarios", "show", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.splitlines() == ["scenario error: " + e for e in expected]


def test_at_least_fifty_cases():
    assert len(BAD) >= 50


def test_scenario_path_is_a_directory(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    result = runner.invoke(app, ["scenarios", "show", str(tmp_path / "dir.toml")])
    assert result.exit_code == 2
    assert result.stderr == f"scenario error: dir.toml: (top level): {tmp_path / 'dir.toml'} is a directory, not a scenario file\n"


def test_extends_is_a_directory(tmp_path):
    (tmp_path / "parent.toml").mkdir()
    (tmp_path / "child.toml").write_text('extends = "parent"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^parent.toml: \(top level\): .* is a directory, not a scenario file$"):
        load_scenario(tmp_path / "child.toml")


def test_file_name_that_is_not_a_slug_needs_a_name(tmp_path):
    path = tmp_path / "my run.toml"
    path.write_text('extends = "baseline"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="my run.toml: name: 'my run' is not a name"):
        load_scenario(path)
    path.write_text('extends = "baseline"\nname = "my_run"\n', encoding="utf-8")
    assert load_scenario(path).name == "my_run"


def test_overrides_checked_like_files():
    base = load_scenario("baseline")
    with pytest.raises(ScenarioError) as err:
        base.with_overrides({"supply.share_executed_used": {"dist": "Normal", "mu": 0.5, "sigma": 0.1},
                             "diagnostics.max_divergences": -1}, label="--vary")
    assert [k for _, k, _ in err.value.problems] == ["supply.share_executed_used", "diagnostics.max_divergences"]


# ---- data coverage, checked before a fit (analysis/model/coverage.py) ----------------------

def _obs(raw_dir, tmp_path):
    from analysis.data.ingest import ingest, read_observations

    ingest(raw_dir, tmp_path / "derived")
    return read_observations(tmp_path / "derived")


def test_shipped_scenarios_covered_by_shipped_data(tmp_path):
    from pathlib import Path

    from analysis.model.coverage import coverage_problems
    from analysis.scenarios import available

    obs = _obs(Path(__file__).resolve().parents[1] / "data" / "raw", tmp_path)
    assert {name: coverage_problems(obs, load_scenario(name)) for name in available()} == {
        name: [] for name in available()}


@pytest.mark.parametrize("overrides, edit, expected", [
    ({"years.start": 2020, "years.periods": [[2020, "latest"]]}, None,
     [("years.start", "years.start = 2020 is after the last year with a single-year observation (2018)")]),
    ({"years.periods": [[2000, 2005], [2019, "latest"]]}, None,
     [("years.periods[1]", "period starts in 2019, after the last model year 2018")]),
    ({}, ("executions.csv", 2, "year", "2016"),
     [("declared.prisoner_source_until", "executed prisoners are a declared source in 2000-2014, but "
       "executions.csv has no row in those years")]),
    ({}, ("donation.csv", 2, "unit", "organs"),
     [("declared.donation_start", "voluntary donation starts in 2010, but donation.csv has no donors row in 2010-2018")]),
])
def test_coverage_problems(raw_dir, tmp_path, overrides, edit, expected):
    from analysis.model.coverage import coverage_problems

    from .test_check import set_cell

    if edit:
        set_cell(raw_dir / edit[0], *edit[1:])
        if edit[0] == "donation.csv":  # keep the quote check happy: the figure is unchanged
            set_cell(raw_dir / "donation.csv", 3, "unit", "organs")
    sc = load_scenario("baseline").with_overrides(overrides) if overrides else load_scenario("baseline")
    assert coverage_problems(_obs(raw_dir, tmp_path), sc) == expected


def test_fit_refuses_uncovered_scenario_before_building(raw_dir, tmp_path):
    path = tmp_path / "late.toml"
    path.write_text('extends = "baseline"\n[years]\nstart = 2020\nperiods = [[2020, "latest"]]\n', encoding="utf-8")
    result = runner.invoke(app, ["fit", "--scenario", str(path), "--data-dir", str(raw_dir),
                                 "--derived", str(tmp_path / "derived"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("scenario error: late.toml: years.start: years.start = 2020 is "
                                             "after the last year with a single-year observation (2018) (data coverage)")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spec, frozen", [
    ({"dist": "Normal", "mu": 0.3, "sigma": 0.5}, lambda st: st.norm(0.3, 0.5)),
    ({"dist": "LogNormal", "mu": -2.3, "sigma": 0.5}, lambda st: st.lognorm(0.5, scale=np.exp(-2.3))),
    ({"dist": "HalfNormal", "sigma": 2.0}, lambda st: st.halfnorm(scale=2.0)),
    ({"dist": "Beta", "alpha": 2.0, "beta": 18.0}, lambda st: st.beta(2.0, 18.0)),
    ({"dist": "Beta", "alpha": 0.3, "beta": 0.4}, lambda st: st.beta(0.3, 0.4)),
    ({"dist": "Gamma", "alpha": 3.0, "beta": 0.5}, lambda st: st.gamma(3.0, scale=2.0)),
    ({"dist": "Uniform", "lower": 1.0, "upper": 5.0}, lambda st: st.uniform(1.0, 4.0)),
])
def test_central_interval_matches_scipy_stats(spec, frozen):
    """The closed-form quantiles (scipy.special, cheap to import) equal scipy.stats' ppf."""
    from scipy import stats

    from analysis.scenarios.spec import central_interval

    np.testing.assert_allclose(central_interval(spec), frozen(stats).ppf([0.01, 0.99]), rtol=1e-10)
    assert central_interval({"dist": "Fixed", "value": 2.5}) == (2.5, 2.5)
