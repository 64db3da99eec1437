"""Scenario files: inheritance, resolution, hashing and every documented error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.cli_support import EXIT_SCENARIO
from analysis.scenarios import ScenarioError, available, literature, load_scenario

runner = CliRunner()
SHIPPED = ["baseline", "official_face_value", "maximal_supply", "capacity_as_volume",
           "donors_inflated", "independent_only"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_scenarios_resolve():
    assert set(SHIPPED) <= set(available())
    hashes = {name: load_scenario(name).hash for name in SHIPPED}
    assert len(set(hashes.values())) == len(SHIPPED)  # every alternate changes something


def test_extends_overrides_single_keys():
    base, alt = load_scenario("baseline"), load_scenario("maximal_supply")
    assert alt.get("declared.prisoner_source_until") == 2030
    assert alt.get("supply.share_executed_used") == {"dist": "Fixed", "value": 1.0}
    assert alt.get("supply.max_organs_per_executed") == 8.0
    # untouched keys are inherited
    assert alt.get("latent") == base.get("latent")
    assert alt.get("evidence.executions.independent.noise") == base.get("evidence.executions.independent.noise")
    assert alt.get("evidence.executions.independent.bias") == {"dist": "Normal", "mu": -0.3, "sigma": 0.1}
    assert [p.name for p in alt.files] == ["maximal_supply.toml", "baseline.toml"]


def test_user_file_extends_baseline(tmp_path):
    p = write(tmp_path, "mine.toml", 'extends = "baseline"\n[supply]\norgans_per_donor = { dist = "LogNormal", mu = 1.2, sigma = 0.1 }\n')
    sc = load_scenario(p)
    assert sc.name == "mine"
    assert sc.get("supply.organs_per_donor")["mu"] == 1.2
    assert sc.hash != load_scenario("baseline").hash


def test_same_content_same_hash(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "baseline"\nname = "x"\n')
    b = write(tmp_path, "b.toml", 'name = "x"\nextends = "baseline"\n')
    assert load_scenario(a).hash == load_scenario(b).hash


BAD = {
    "unknown key": ('extends = "baseline"\n[supply]\norgans_per_kidney = { dist = "Normal", mu = 1, sigma = 1 }\n',
                    "bad.toml: supply.organs_per_kidney: unknown key; allowed: share_executed_used, organs_per_executed, organs_per_donor, donor_report_inflation"),
    "wrong type": ('extends = "baseline"\n[sampler]\nchains = "four"\n',
                   "bad.toml: sampler.chains: expected an integer > 0, found 'four'"),
    "negative sd": ('extends = "baseline"\n[latent.executions]\nstep = { dist = "LogNormal", mu = -1.9, sigma = -0.5 }\n',
                    "bad.toml: latent.executions.step.sigma: must be > 0 for LogNormal, found -0.5"),
    "unknown distribution": ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "Cauchy", mu = 1, sigma = 1 }\n',
                             "bad.toml: supply.organs_per_donor.dist: unknown distribution 'Cauchy'; allowed: Normal, LogNormal, HalfNormal, Beta, Gamma, Uniform, Fixed"),
    "missing parameter": ('extends = "baseline"\n[supply]\norgans_per_donor = { dist = "Normal", mu = 1 }\n',
                          "bad.toml: supply.organs_per_donor.sigma: missing parameter of Normal; required: mu, sigma"),
    "bad choice": ('extends = "baseline"\n[evidence.rules]\ncapacity_as = "volume"\n',
                   "bad.toml: evidence.rules.capacity_as: expected one of 'upper_bound', 'estimate', 'exclude', found 'volume'"),
    "extends missing": ('extends = "nonexistent"\n',
                        "bad.toml: extends: extends 'nonexistent', which does not exist; shipped scenarios: "),
    "toml syntax": ('extends = "baseline"\n[supply\n', "bad.toml: (top level): TOML syntax error: "),
    "incomplete without extends": ('name = "lonely"\n', "bad.toml: description: missing key (not set here nor in any scenario it extends)"),
    "ceiling zero": ('extends = "baseline"\n[supply]\nmax_organs_per_executed = 0\n',
                     "bad.toml: supply.max_organs_per_executed: expected a number > 0, found 0"),
    "ceiling negative": ('extends = "baseline"\n[supply]\nmax_organs_per_executed = -3.0\n',
                         "bad.toml: supply.max_organs_per_executed: expected a number > 0, found -3.0"),
    "unknown share role": ('extends = "baseline"\n[evidence.shares]\nrole = "fill_the_gap"\n',
                           "bad.toml: evidence.shares.role: expected one of 'tested', 'evidence', 'exclude', found 'fill_the_gap'"),
    "yield step negative sd": ('extends = "baseline"\n[supply]\nprisoner_yield_step = { dist = "LogNormal", mu = -2.3, sigma = -0.5 }\n',
                               "bad.toml: supply.prisoner_yield_step.sigma: "),
    "donor step negative sd": ('extends = "baseline"\n[supply]\norgans_per_donor_step = { dist = "HalfNormal", sigma = -1 }\n',
                               "bad.toml: supply.organs_per_donor_step.sigma: "),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_scenarios_rejected_with_message_and_exit_code(tmp_path, case):
    text, message = BAD[case]
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(message)
    result = runner.invoke(app, ["scenarios", "show", str(path)])
    assert result.exit_code == EXIT_SCENARIO == 2
    assert result.stderr.startswith("scenario error: " + message)


def test_circular_extends(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b"\n')
    write(tmp_path, "b.toml", 'extends = "a"\n')
    with pytest.raises(ScenarioError, match=r"a.toml: extends: circular extends chain: a.toml -> b.toml -> a.toml"):
        load_scenario(tmp_path / "a.toml")


def test_unknown_scenario_name():
    result = runner.invoke(app, ["scenarios", "show", "no_such_scenario"])
    assert result.exit_code == 2
    assert "no such scenario file; shipped scenarios: " in result.stderr


def test_cli_lists_and_shows():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == sorted(available()) + sorted(literature())  # the literature scenarios after
    shown = runner.invoke(app, ["scenarios", "show", "donors_inflated"])
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[0].startswith("# scenario donors_inflated  hash ")
    assert '[supply.donor_report_inflation]\ndist = "LogNormal"\nmu = 0.26' in shown.stdout  # TOML


def test_with_overrides_validates():
    base = load_scenario("baseline")
    alt = base.with_overrides({"supply.organs_per_donor": {"dist": "Fixed", "value": 3.0}})
    assert alt.get("supply.organs_per_donor") == {"dist": "Fixed", "value": 3.0}
    assert base.get("supply.organs_per_donor")["dist"] == "LogNormal"
    with pytest.raises(ScenarioError, match="sampler.draws: expected an integer > 0"):
        base.with_overrides({"sampler.draws": 0})


def test_a_drift_step_of_zero_means_no_drift(tmp_path):
    """A Fixed step sd of exactly 0 is allowed for the yield and bias drifts (a constant), while
    any other Fixed value <= 0 for a positive quantity is refused."""
    ok = write(tmp_path, "ok.toml", 'extends = "baseline"\nname = "x"\n[supply]\n'
               'prisoner_yield_step = { dist = "Fixed", value = 0.0 }\n'
               'organs_per_donor_step = { dist = "Fixed", value = 0.0 }\n')
    assert load_scenario(ok).get("supply.prisoner_yield_step") == {"dist": "Fixed", "value": 0.0}
    bad = write(tmp_path, "bad.toml", 'extends = "baseline"\n[supply]\n'
                'organs_per_executed = { dist = "Fixed", value = 0.0 }\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "supply.organs_per_executed: a positive quantity needs a positive distribution" in str(err.value)
