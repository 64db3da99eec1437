"""tgap fit end to end with a mocked sampler (prior draws stand in for the posterior).

Only the plumbing is under test here: outputs, manifest, cache reuse and refusal, exit codes.
Real sampling is exercised in test_recovery.py.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()


def fake_sample(entry, inputs, settings, progressbar, divergences=0):
    import arviz as az
    import pymc as pm

    with entry["model"]:
        pri = pm.sample_prior_predictive(draws=settings.chains * settings.draws, random_seed=settings.seed)
    d = pri.prior.isel(chain=0, drop=True)
    chains = [d.isel(draw=slice(i * settings.draws, (i + 1) * settings.draws)).assign_coords(
        draw=np.arange(settings.draws)) for i in range(settings.chains)]
    post = xr.concat(chains, dim=pd.Index(np.arange(settings.chains), name="chain"))
    div = np.zeros((settings.chains, settings.draws), bool)
    div.flat[:divergences] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), div)},
                       coords={"chain": post.chain, "draw": post.draw})
    return az.InferenceData(posterior=post, sample_stats=stats)


@pytest.fixture
def mocked(monkeypatch, tmp_path):
    import analysis.model.fit as fit

    monkeypatch.setattr(fit, "_sample", fake_sample)
    monkeypatch.setattr(fit, "CACHE_DIR", tmp_path / "cache")
    return fit


def fit_args(raw_dir, out, *extra):
    return ["fit", "--data-dir", str(raw_dir), "--derived", str(out.parent / "derived"), "--out", str(out),
            "--quick", "--draws", "50", "--chains", "2", *extra]


def test_fit_writes_outputs_and_reuses_cache(mocked, raw_dir, tmp_path):
    out = tmp_path / "out"
    first = runner.invoke(app, fit_args(raw_dir, out))
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "organs not explained by declared sources under scenario baseline (sum over the years of max(gap, 0)" in first.stdout
    for name in ["idata.nc", "gap_by_year.csv", "gap_by_period.csv", "manifest.json", "capacity_gap_by_year.csv",
                 "executions_required.csv", "composition_test.csv", "evidence_tested.csv",
                 "evidence_used.csv", "evidence_excluded.csv"]:
        assert (out / name).exists(), name
    gby = pd.read_csv(out / "gap_by_year.csv")
    assert list(gby["year"]) == list(range(2000, 2019))
    for col in ["year", "volume_mean", "supply_mean", "gap_mean", "gap_median", "gap_q05", "gap_q25",
                "gap_q75", "gap_q95", "p_gap_positive"]:
        assert col in gby.columns
    assert (gby["gap_q05"] <= gby["gap_q25"]).all() and (gby["gap_q75"] <= gby["gap_q95"]).all()
    assert gby["p_gap_positive"].between(0, 1).all()
    # gap = volume - supply, draw by draw, hence also in the means
    np.testing.assert_allclose(gby["gap_mean"], gby["volume_mean"] - gby["supply_mean"], atol=0.2)
    per = pd.read_csv(out / "gap_by_period.csv")
    assert list(per["period"]) == ["2000-2005", "2006-2014", "2015-2018"]

    import arviz as az

    idata = az.from_netcdf(out / "idata.nc")
    assert {"posterior", "log_likelihood", "prior", "prior_predictive", "posterior_predictive"} <= set(idata.groups())
    for key in ["scenario_name", "scenario_hash", "data_hash", "sampler_json", "seed", "tgap_version", "code_hash"]:
        assert key in idata.attrs
    assert idata.attrs["scenario_name"] == "baseline"
    # organs taken from executed prisoners never exceed the deceased-donor volume, in any draw
    # (prior draws stand in for the posterior here, so this covers the model's whole support)
    post = idata.posterior
    assert bool((post["prisoner_organs"] <= post["deceased_volume"]).all())
    assert float((post["prisoner_capacity"] / post["deceased_volume"]).max()) > 1  # the cap is reached
    c_t = post["organs_per_executed_t"]
    assert bool((c_t <= 5.0).all()) and float(c_t.max()) > 1.0  # the ceiling (baseline: 5) holds
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "baseline"
    assert manifest["sampler"]["draws"] == 50 and manifest["sampler"]["chains"] == 2
    assert set(manifest["diagnostics"]) >= {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed"}
    assert set(manifest["inputs"]["raw_files_sha256"]) == {"sources.csv", "origins.csv", "volumes.csv",
                                                           "executions.csv", "donation.csv", "living_and_share.csv"}
    before = (out / "gap_by_year.csv").read_bytes()

    second = runner.invoke(app, fit_args(raw_dir, out))
    assert second.exit_code == 0
    assert "loaded from cache" in second.stdout
    assert (out / "gap_by_year.csv").read_bytes() == before
    assert json.loads((out / "manifest.json").read_text())["from_cache"] is True


def test_tampered_cache_is_refused(mocked, raw_dir, tmp_path):
    import arviz as az

    out = tmp_path / "out"
    assert runner.invoke(app, fit_args(raw_dir, out)).exit_code == 0
    [cached] = list((tmp_path / "cache" / "fits").glob("*/idata.nc"))
    idata = az.from_netcdf(cached)
    idata.load()
    idata.attrs["scenario_hash"] = "0" * 64
    cached.unlink()
    from analysis.model import cache

    cache.save(idata, cached)  # a well-formed entry (checksum matches) whose attrs disagree
    result = runner.invoke(app, fit_args(raw_dir, out))
    assert result.exit_code == 4
    assert "does not match this request; differing attrs: scenario_hash (use --no-cache to refit)" in result.stderr
    assert runner.invoke(app, fit_args(raw_dir, out, "--no-cache")).exit_code == 0


def test_strict_fails_on_divergences(monkeypatch, mocked, raw_dir, tmp_path):
    monkeypatch.setattr(mocked, "_sample", lambda *a: fake_sample(*a, divergences=3))
    out = tmp_path / "out"
    loose = runner.invoke(app, fit_args(raw_dir, out))
    assert loose.exit_code == 0
    line = next(x for x in loose.stdout.splitlines() if x.startswith("diagnostics "))
    failed = line.split("FAILED: ")[1].split(" (")[0].split(", ")
    assert "divergences" in failed and line.endswith("divergences 3)")
    strict = runner.invoke(app, fit_args(raw_dir, out, "--strict"))
    assert strict.exit_code == 3
    assert "diagnostics gate failed (--strict)" in strict.stderr


def test_fit_rejects_bad_scenario_and_bad_data(mocked, raw_dir, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\n[sampler]\nchains = -1\n')
    result = runner.invoke(app, fit_args(raw_dir, tmp_path / "o1", "--scenario", str(bad)))
    assert result.exit_code == 2
    assert "bad.toml: sampler.chains: expected an integer > 0, found -1" in result.stderr
    (raw_dir / "executions.csv").write_text("obs_id\n", encoding="utf-8")
    result = runner.invoke(app, fit_args(raw_dir, tmp_path / "o2"))
    assert result.exit_code == 1
    assert "executions.csv:1:series: header: required column missing from header" in result.stdout
    assert not (tmp_path / "o2").exists()


def test_numba_compiles_without_fastmath_unless_the_user_sets_it(monkeypatch):
    """Cross-process reproducibility: PyTensor's fastmath (reassociation) made the compiled log
    density differ in its last bit between fresh processes (benchmarks/determinism.py), so tgap
    compiles for numba with fastmath off, for the rest of the process; an explicit
    ``numba__fastmath=True`` in PYTENSOR_FLAGS is respected."""
    import pytensor

    import analysis.model.fit as fit
    from analysis.model import numba_cached
    from analysis.runtime import configure

    seen = []
    monkeypatch.setattr(numba_cached, "compile_numba_cached",
                        lambda model, **kw: seen.append(bool(pytensor.config.numba__fastmath)) or "compiled")
    monkeypatch.setattr(pytensor.config, "numba__fastmath", True)  # as if PyTensor was imported first
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/tmp/x")
    model = object()
    assert fit.compile_nutpie(model, "numba") == ("compiled", model)
    assert seen == [False] and pytensor.config.numba__fastmath is False  # stays off in this process
    pytensor.config.numba__fastmath = True
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/tmp/x,numba__fastmath=True")
    fit.compile_nutpie(object(), "numba")
    assert seen == [False, True]
    # configure() (run before PyTensor's import by every entry point) turns it off, unless asked
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/tmp/x")
    configure()
    assert os.environ["PYTENSOR_FLAGS"] == "base_compiledir=/tmp/x,numba__fastmath=False"
    monkeypatch.setenv("PYTENSOR_FLAGS", "numba__fastmath=True,base_compiledir=/tmp/x")
    configure()
    assert os.environ["PYTENSOR_FLAGS"] == "numba__fastmath=True,base_compiledir=/tmp/x"
