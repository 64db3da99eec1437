"""Sensitivity sweeps, break-even search and power-scaling.

Plumbing (designs, tables, tornado arithmetic, failed points, bad input, HTML section) runs on
fake fits whose gap is a known function of the varied values. Real quick fits run on a tiny
synthetic dataset built so that the gap is known analytically: 6,000 deceased-donor transplants
and 4,000 executions a year, both reported precisely (bias fixed at 0, noise 1%), so that over
2000-2003 (prisoners declared) the gap is 4 x (6000 - u x 4000 x y_e) = 24000 - 16000 u y_e.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import rules
from analysis.scenarios import ScenarioError, load_scenario
from analysis.sensitivity import breakeven as be
from analysis.sensitivity import grid, sweep
from analysis.sensitivity.run import run_breakeven, run_sensitivity
from tests.conftest import ORIGINS, SOURCES, obs, write_csv

runner = CliRunner()

SYNTH_TOML = """
extends = "baseline"
name = "synthetic"
description = "Tiny synthetic check: precise volume and execution reports, u and y_e fixed."
[years]
periods = [[2000, 2003], [2004, "latest"]]
[declared]
prisoner_source_until = 2003
donation_start = 2004
[supply]
share_executed_used = { dist = "Fixed", value = 0.5 }
organs_per_executed = { dist = "Fixed", value = 2.0 }
[evidence.volume.official]
bias = { dist = "Fixed", value = 0.0 }
noise = { dist = "Fixed", value = 0.01 }
[evidence.executions.independent]
bias = { dist = "Fixed", value = 0.0 }
noise = { dist = "Fixed", value = 0.01 }
[sampler.quick]
chains = 2
draws = 300
tune = 150
"""
VOLUME, EXECUTIONS = 6000, 4000


def synth_gap(u: float, y_e: float) -> float:
    """Analytic gap over 2000-2003 (four years)."""
    return 4 * (VOLUME - u * EXECUTIONS * y_e)


def write_synthetic(root: Path) -> tuple[Path, Path]:
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    years = range(2000, 2006)
    rows = {
        "volumes": [obs(f"vol-{y}", "official_deceased", y, VOLUME, "transplants", "reported", "S-OFF",
                        f"{VOLUME} transplants", donor_type="deceased") for y in years],
        "executions": [obs(f"exe-{y}", "exec_estimate", y, EXECUTIONS, "executions", "estimate", "S-NGO",
                           f"{EXECUTIONS} executions") for y in years]
        # a recorded minimum far below the truth: no effect on the gap, but the model has a bound row
        + [obs("exe-min-2001", "recorded_minimum", 2001, 1000, "executions", "lower_bound", "S-NGO",
               "at least 1000 executions", qualifier="over")],
        "donation": [obs(f"don-{y}", "official_donors", y, 500, "donors", "reported", "S-OFF", "500 donors",
                         donor_type="deceased") for y in (2004, 2005)],
        "living_and_share": [obs(f"liv-{y}", "living_total", y, 1000, "transplants", "reported", "S-OFF",
                                 "1000 living", donor_type="living") for y in years],
    }
    write_csv(raw / rules.SOURCES_FILE, rules.SOURCE_COLUMNS, SOURCES)
    write_csv(raw / rules.ORIGINS_FILE, rules.ORIGIN_COLUMNS, ORIGINS)
    for family, (name, _) in rules.FAMILIES.items():
        write_csv(raw / name, rules.OBS_COLUMNS, rows[family])
    toml = root / "synthetic.toml"
    toml.write_text(SYNTH_TOML, encoding="utf-8")
    return raw, toml


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The synthetic dataset and scenario. The package's code hash (part of every fit key and
    compiled-model key) is frozen for the module, so edits to the checkout while the tests run
    do not force recompilation between the real-fit tests."""
    import analysis.model.fit as fit
    from analysis.data.check import validate
    from analysis.data.ingest import tidy_observations

    root = tmp_path_factory.mktemp("synthetic")
    raw, toml = write_synthetic(root)
    mp = pytest.MonkeyPatch()
    code = fit.code_hash()
    mp.setattr(fit, "code_hash", lambda: code)
    yield {"root": root, "raw": raw, "toml": toml, "obs": tidy_observations(validate(raw)),
           "scenario": load_scenario(toml)}
    mp.undo()


# ---- designs ----------------------------------------------------------------------------------

def test_parse_vary_values_and_errors():
    v = grid.parse_vary("supply.organs_per_donor.mu=0.9, 1.03,1.2")
    assert v.key == "supply.organs_per_donor.mu" and v.values == (0.9, 1.03, 1.2) and v.numeric
    assert grid.parse_vary("declared.prisoner_source_until=2014,2016").values == (2014, 2016)
    assert grid.parse_vary("evidence.rules.capacity_as=upper_bound,estimate").values == ("upper_bound", "estimate")
    assert grid.parse_vary("evidence.rules.collapse_repeats=true,false").values == (True, False)
    for bad, msg in [("supply.organs_per_donor.mu", "expected KEY=V1,V2"), ("=1,2", "malformed key"),
                     ("a..b=1", "malformed key"), ("x=1,,2", "empty value"), ("x=1,1", "repeated value"),
                     ("x=nan", "not a finite number")]:
        with pytest.raises(ValueError, match=msg):
            grid.parse_vary(bad)


def test_grid_adds_base_and_one_at_a_time_points():
    base = load_scenario("baseline")
    varies = [grid.parse_vary("supply.organs_per_donor.mu=0.9,1.2"),
              grid.parse_vary("declared.prisoner_source_until=2014,2016")]
    points = grid.design_points(base, varies)
    # base (1.044, 2014) is not in the 2x2 grid -> base + 4 grid + oat (0.9|1.2 with 2014 are in the
    # grid; 2016 with 1.044 is new) = 6, each scenario once
    assert [p.design for p in points] == ["base", "grid", "grid", "grid", "grid", "oat"]
    assert points[0].overrides == {} and points[0].label == "base"
    assert points[-1].values == {"supply.organs_per_donor.mu": 1.044, "declared.prisoner_source_until": 2016}
    assert len({tuple(sorted(p.values.items())) for p in points}) == len(points)
    assert len(grid.design_points(base, varies, oat=False)) == 5


def test_latin_hypercube_covers_ranges():
    base = load_scenario("baseline")
    varies = [grid.parse_vary("supply.organs_per_donor.mu=0.9,1.2"),
              grid.parse_vary("declared.prisoner_source_until=2012,2016"),
              grid.parse_vary("evidence.rules.capacity_as=upper_bound,estimate")]
    pts = grid.latin_hypercube(varies, 10, seed=3)
    mus = sorted(p["supply.organs_per_donor.mu"] for p in pts)
    assert len(pts) == 10 and 0.9 <= mus[0] and mus[-1] <= 1.2
    # one point per tenth of the range (Latin hypercube strata)
    assert sorted(int((m - 0.9) / 0.03) for m in mus) == list(range(10))
    assert all(isinstance(p["declared.prisoner_source_until"], int) for p in pts)
    assert {p["evidence.rules.capacity_as"] for p in pts} == {"upper_bound", "estimate"}
    assert pts == grid.latin_hypercube(varies, 10, seed=3)  # seeded
    design = grid.design_points(base, varies, samples=10)
    assert design[0].design == "base" and sum(p.design == "lhs" for p in design) == 10


@pytest.mark.parametrize("spec, message", [
    ("supply.nonexistent=1,2", "supply.nonexistent: unknown key; allowed: share_executed_used"),
    ("supply.organs_per_donor.sigma=-1,0.2", "must be > 0 for LogNormal, found -1"),
    ("supply.organs_per_donor=1,2", "is a table; vary one of its entries"),
    ("evidence.rules.capacity_as=upper_bound,sometimes", "expected one of 'upper_bound', 'estimate'"),
    ("declared.prisoner_source_until=2014,2014.5", "expected an integer, found 2014.5"),
])
def test_invalid_points_raise_scenario_error(spec, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        grid.design_points(load_scenario("baseline"), [grid.parse_vary(spec)])


# ---- sweep plumbing on fake fits ----------------------------------------------------------

KEY_MU, KEY_NOISE = "supply.organs_per_donor.mu", "evidence.shares.noise"


def fake_gap_per_year(sc) -> float:
    return 1000 * (sc.get(KEY_MU) - 1.044) + 500 * (sc.get(KEY_NOISE) - 0.6) + 100


class FakeResult:
    def __init__(self, scenario, years):
        rng = np.random.default_rng(0)
        draws = fake_gap_per_year(scenario) + rng.normal(0, 10, size=(2, 200, len(years)))
        post = xr.Dataset({"gap": (("chain", "draw", "year"), draws)},
                          coords={"chain": [0, 1], "draw": np.arange(200), "year": years})
        import arviz as az

        stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((2, 200), bool))})
        self.idata = az.InferenceData(posterior=post, sample_stats=stats)
        self.scenario, self.key, self.from_cache = scenario, "fake", False
        self.evidence = type("Ev", (), {"years": years})()


@pytest.fixture
def fake_fits(monkeypatch):
    """fit_once replaced by a fake whose gap is known; a point with mu = 1.2 and noise 0.3 fails."""
    years = np.arange(2000, 2019)

    def fake_fit_once(job, overrides):
        sc = job.scenario(overrides)
        if sc.get(KEY_MU) == 1.2 and sc.get(KEY_NOISE) == 0.3:
            raise RuntimeError("sampler exploded (test)")
        return FakeResult(sc, years)

    monkeypatch.setattr(sweep, "fit_once", fake_fit_once)
    return years


def sweep_args(raw_dir, out, *extra):
    return ["sensitivity", "--data-dir", str(raw_dir), "--derived", str(out.parent / "derived"),
            "--out", str(out), "--vary", f"{KEY_MU}=0.9,1.044,1.2", "--vary", f"{KEY_NOISE}=0.3,0.6",
            "--no-psense", *extra]


def test_sweep_table_tornado_and_failed_point(fake_fits, raw_dir, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, sweep_args(raw_dir, out))
    assert res.exit_code == 0, res.stdout + res.stderr
    # plain progress lines when not a terminal, one per setting; the failure named, sweep goes on
    assert "[1/6] base: ok" in res.stderr and "[6/6]" in res.stderr
    assert "FAILED: RuntimeError: sampler exploded (test)" in res.stderr
    assert "6 settings" in res.stdout and "1 failed" in res.stdout
    assert "organs not explained by declared sources under variants of scenario baseline" in res.stdout
    t = pd.read_csv(out / "sensitivity.csv")
    periods = ["2000-2005", "2006-2014", "2015-2018"]
    assert len(t) == 6 * 3 and list(t["period"].unique()) == periods
    for col in [KEY_MU, KEY_NOISE, "gap_mean", "gap_q05", "gap_q95", "p_gap_positive", "diagnostics_passed",
                "status", "error"]:
        assert col in t.columns
    failed = t[t["status"] == "failed"]
    assert len(failed) == 3 and failed["gap_median"].isna().all()
    assert failed["error"].str.startswith("RuntimeError: sampler exploded (test)").all()
    ok = t[t["status"] == "ok"].copy()
    n_years = ok["period"].map({"2000-2005": 6, "2006-2014": 9, "2015-2018": 4})
    expected = n_years * (1000 * (ok[KEY_MU] - 1.044) + 500 * (ok[KEY_NOISE] - 0.6) + 100)
    np.testing.assert_allclose(ok["gap_median"], expected, atol=0.02 * n_years.max() * 10 + 5)
    assert (ok["gap_q05"] < ok["gap_median"]).all() and (ok["gap_median"] < ok["gap_q95"]).all()
    # tornado: each key moved alone, the other at base; swing = range of the key's effect
    tor = pd.read_csv(out / "tornado.csv").set_index(["period", "key"])
    assert tor.loc[("2006-2014", KEY_MU), "swing"] == pytest.approx(9 * 300, abs=15)
    assert tor.loc[("2006-2014", KEY_NOISE), "swing"] == pytest.approx(9 * 150, abs=15)
    assert tor.loc[("2006-2014", KEY_MU), "low_at"] == pytest.approx(0.9)
    by_year = pd.read_csv(out / "sensitivity_by_year.csv")
    assert by_year["point"].nunique() == 5 and set(by_year["year"]) == set(range(2000, 2019))
    manifest = json.loads((out / "sensitivity.json").read_text())
    assert manifest["settings"] == 6 and manifest["failed"] == 1 and manifest["design"] == "full_grid"
    for png in ["tornado.png", "small_multiples.png", "spec_curve.png"]:
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_report_section_embeds_tables_and_figures(fake_fits, raw_dir, tmp_path):
    from analysis.sensitivity import report_section

    out = tmp_path / "out"
    assert runner.invoke(app, sweep_args(raw_dir, out)).exit_code == 0
    pd.DataFrame({"quantity": ["gap 2000-2005"], "prior_all": [0.01], "likelihood": [0.2],
                  "diagnosis": [""]}).to_csv(out / "psense.csv", index=False)
    html = report_section(out)
    assert html.startswith('<section id="sensitivity">') and html.rstrip().endswith("</section>")
    assert html.count("data:image/png;base64,") == 3
    assert "Organs not explained by declared sources under variants of scenario" in html
    assert "sampler exploded (test)" in html and "power-scaling" in html
    with pytest.raises(FileNotFoundError, match="no sensitivity.csv or breakeven.csv"):
        report_section(tmp_path / "empty")


@pytest.mark.parametrize("extra, message", [
    (["--vary", "supply.organs_per_donor.mu"], "expected KEY=V1,V2"),
    (["--vary", "supply.nonexistent=1,2"], "scenario error: --vary (base baseline): supply.nonexistent: unknown key"),
    (["--vary", "supply.organs_per_donor.sigma=-1,0.2"], "must be > 0 for LogNormal"),
    (["--backend", "spark"], "--backend 'spark': allowed: local, dask"),
    (["--samples", "0"], "--samples must be >= 1"),
    (["--jobs", "0"], "--jobs must be >= 1"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
])
def test_bad_sweep_input_exits_2_and_writes_nothing(fake_fits, raw_dir, tmp_path, extra, message):
    out = tmp_path / "out"
    args = ["sensitivity", "--data-dir", str(raw_dir), "--derived", str(tmp_path / "derived"),
            "--out", str(out), "--vary", f"{KEY_MU}=0.9,1.2", *extra]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--quantity", "organs_per_kidney"], "--quantity 'organs_per_kidney': unknown; allowed: executions"),
    (["--bracket", "organs_per_donor=5,1"], "need 0 < A < B"),
    (["--bracket", "organs_per_donor=1"], "expected NAME=A,B"),
    (["--rtol", "0"], "need 0 < --rtol < 1"),
])
def test_bad_breakeven_input_exits_2(raw_dir, tmp_path, extra, message):
    out = tmp_path / "out"
    res = runner.invoke(app, ["breakeven", "--data-dir", str(raw_dir), "--derived", str(tmp_path / "d"),
                              "--out", str(out), *extra])
    assert res.exit_code == 2 and message in res.stderr
    assert not out.exists()


def test_unreachable_dask_scheduler_is_a_clear_error(fake_fits, raw_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "DASK_CONNECT_TIMEOUT", "2s")
    out = tmp_path / "out"
    res = runner.invoke(app, sweep_args(raw_dir, out, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"))
    assert res.exit_code == 2, res.stdout + res.stderr
    assert "cannot reach a Dask scheduler at 'tcp://127.0.0.1:9' (waited 2s)" in res.stderr
    assert not out.exists()


def test_joblib_processes_and_order():
    """jobs=2 runs tasks in a loky process pool; results come back tagged with their index."""
    got = dict(sweep.run_tasks(pow, [(2, k) for k in range(6)], backend="local", jobs=2))
    assert got == {k: 2 ** k for k in range(6)}
    with pytest.raises(ValueError, match="unknown backend 'ray'"):
        list(sweep.run_tasks(pow, [(2, 1)], backend="ray"))


def test_published_ranges_and_prior_intervals(synthetic):
    o = synthetic["obs"]
    extra = pd.DataFrame([
        {"family": "donation", "obs_id": "don-o-2004", "series": "official_organs", "year": 2004, "year_end": 2004,
         "value": 1400.0, "unit": "organs", "donor_type": "deceased", "source_id": "S-OFF"},
        {"family": "donation", "obs_id": "don-o-2005", "series": "official_organs", "year": 2005, "year_end": 2005,
         "value": 1500.0, "unit": "organs", "donor_type": "deceased", "source_id": "S-OFF"}])
    o = pd.concat([o, extra], ignore_index=True)
    # four estimates of 4,000 and the recorded minimum of 1,000 (2001)
    assert be.published_range(o, "executions", (2000, 2003)) == {
        "low": 1000.0, "high": 4000.0, "n": 5, "what": "executions per year"}
    partial = o.assign(flag=np.where(o["obs_id"] == "exe-min-2001", "partial_year", o["flag"]))
    assert be.published_range(partial, "executions", (2000, 2003))["low"] == 4000.0  # left out
    ratio = be.published_range(o, "organs_per_donor", (2004, 2005))
    assert (ratio["low"], ratio["high"], ratio["n"]) == (pytest.approx(2.8), pytest.approx(3.0), 2)
    assert be.published_range(o, "organs_per_executed", (2000, 2003)) is None
    base = load_scenario("baseline")
    lo, hi = be.prior_interval(base, "share_executed_used")  # Beta(2, 2)
    assert (lo, hi) == (pytest.approx(0.1354, abs=1e-4), pytest.approx(0.8646, abs=1e-4))
    lo, hi = be.prior_interval(base, "executions")  # bias N(0, 0.5) on official -> m = exp(-b)
    assert (lo, hi) == (pytest.approx(np.exp(-1.6449 * 0.5), rel=1e-3), pytest.approx(np.exp(1.6449 * 0.5), rel=1e-3))
    assert be.QUANTITIES["official_volume"].overrides(0.5) == {
        "evidence.volume.official.bias": {"dist": "Fixed", "value": pytest.approx(np.log(2))},
        "evidence.volume.international.bias": {"dist": "Fixed", "value": pytest.approx(np.log(2))}}


# ---- real quick fits on the synthetic dataset -------------------------------------------------

VARY_U = "supply.share_executed_used.value=0.5,0.6"
VARY_YE = "supply.organs_per_executed.value=2,3"


@pytest.mark.slow
def test_quick_sweep_four_settings_matches_analytic_gap(synthetic, tmp_path, monkeypatch):
    """Four settings (2 x 2 grid containing the base), real fits, local backend, via the CLI;
    then power-scaling of the base fit."""
    import analysis.runtime

    monkeypatch.setattr(analysis.runtime, "CACHE_DIR", tmp_path / "cache")
    out = tmp_path / "out"
    res = runner.invoke(app, ["sensitivity", "--scenario", str(synthetic["toml"]), "--data-dir", str(synthetic["raw"]),
                              "--derived", str(tmp_path / "derived"), "--out", str(out), "--quick",
                              "--vary", VARY_U, "--vary", VARY_YE])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "4 settings" in res.stdout and "0 failed" in res.stdout
    t = pd.read_csv(out / "sensitivity.csv")
    first = t[t["period"] == "2000-2003"]
    assert len(first) == 4 and (first["status"] == "ok").all()
    u, ye = first["supply.share_executed_used.value"], first["supply.organs_per_executed.value"]
    expected = [synth_gap(a, b) for a, b in zip(u, ye)]  # 8000, 4800, 0, -4800
    np.testing.assert_allclose(first["gap_median"], expected, atol=400)  # 400 = 1.7% of the 24,000 range
    assert (first["gap_q05"] < first["gap_median"]).all() and (first["gap_median"] < first["gap_q95"]).all()
    # power-scaling of the base fit. y_d (organs per donor) has no data here (donor counts only):
    # its posterior is its prior, so power-scaling the supply priors (y_d is the only free one)
    # moves it; the 2000-2003 gap does not involve y_d (no donors before 2004), so it stays put.
    ps = pd.read_csv(out / "psense.csv", keep_default_na=False).set_index("quantity")
    assert set(ps.index) == {"gap 2000-2003", "gap 2004-2005", "organs_per_donor"}
    num = ps[[c for c in ps.columns if c.startswith(("prior", "likelihood"))]].astype(float)
    assert list(num.columns) == ["prior_all", "prior_supply", "prior_evidence", "prior_latent", "prior_mix",
                                 "likelihood"]
    assert np.isfinite(num.to_numpy()).all() and (num.to_numpy() >= 0).all()
    assert num.loc["organs_per_donor", "prior_supply"] >= 0.05
    assert num.loc["gap 2000-2003", "prior_supply"] < 0.05
    assert json.loads((out / "sensitivity.json").read_text())["psense"] == "computed"


@pytest.mark.slow
def test_quick_sweep_on_dask_local_cluster(synthetic, tmp_path):
    """The same four settings on a Dask LocalCluster (in-process worker, so the compiled model of
    the previous test is reused); fresh cache, so every point is fitted on the worker."""
    from distributed import LocalCluster

    job = sweep.FitJob(obs=synthetic["obs"], base=synthetic["scenario"], quick=True,
                       cache_dir=str(tmp_path / "cache"))
    varies = [grid.parse_vary(VARY_U), grid.parse_vary(VARY_YE)]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        progress = sweep.Progress(4, "dask", tty=False)
        manifest = run_sensitivity(job, varies, tmp_path / "out", backend="dask", scheduler=cluster.scheduler_address,
                                   psense=False, charts=False, progress=progress, echo=lambda *_: None)
    t = manifest["table"]
    assert manifest["settings"] == 4 and manifest["failed"] == 0 and manifest["fits_from_cache"] == 0
    first = t[t["period"] == "2000-2003"]
    expected = [synth_gap(a, b) for a, b in zip(first["supply.share_executed_used.value"],
                                                first["supply.organs_per_executed.value"])]
    np.testing.assert_allclose(first["gap_median"], expected, atol=400)


@pytest.mark.slow
def test_breakeven_recovers_analytic_yield(synthetic, tmp_path, capsys):
    """Gap 2000-2003 = 24000 - 16000 u y_e with u = 0.5 vanishes at y_e = 3 exactly; the root
    search over refits must find it within 0.05 (1.7%). The 2004-2005 gap does not depend on y_e:
    no root in the bracket."""
    job = sweep.FitJob(obs=synthetic["obs"], base=synthetic["scenario"], quick=True,
                       cache_dir=str(tmp_path / "cache"))
    manifest = run_breakeven(job, ["organs_per_executed"], tmp_path / "out", brackets={"organs_per_executed": (1.0, 5.0)},
                             progress=sweep.Progress(1, "be", tty=False), echo=lambda *_: None)
    t = manifest["table"].set_index("period")
    assert t.loc["2000-2003", "status"] == "root"
    assert t.loc["2000-2003", "breakeven"] == pytest.approx(3.0, abs=0.05)
    assert abs(t.loc["2000-2003", "gap_median_at_root"]) < 0.01 * 32000
    assert 1 <= t.loc["2000-2003", "refits"] <= 8
    assert t.loc["2004-2005", "status"] == "no root in bracket"
    assert "stays above zero" in t.loc["2004-2005", "note"]
    ev = pd.read_csv(tmp_path / "out" / "breakeven_evaluations.csv")
    at_ends = ev[(ev["period"] == "2000-2003") & ev["value"].isin([1.0, 5.0])].sort_values("value")
    np.testing.assert_allclose(at_ends["gap_median"], [synth_gap(0.5, 1.0), synth_gap(0.5, 5.0)], atol=400)
    assert (tmp_path / "out" / "breakeven.png").read_bytes()[:4] == b"\x89PNG"
    # in-process searches report every refit; the progress line names the outcome per period
    err = capsys.readouterr().err
    import re

    line = re.search(r"organs_per_executed = 1: median gap 2000-2003: (-?[\d,]+), 2004-2005", err)
    assert line and abs(float(line.group(1).replace(",", "")) - synth_gap(0.5, 1.0)) < 400
    assert "[1/1] organs_per_executed: 2000-2003: root, 2004-2005: no root in bracket" in err
