"""The fit cache checks itself (analysis/model/cache.py): a truncated, overwritten or unreadable
cached fit is reported and refitted, never used and never a crash; `tgap cache list|verify|clear`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.io import atomic_write_json, sha256_file
from analysis.model import cache

runner = CliRunner()


def tiny_idata(seed: int = 0):
    import arviz as az

    rng = np.random.default_rng(seed)
    idata = az.from_dict(posterior={"gap": rng.normal(size=(2, 50, 3))}, sample_stats={"diverging": np.zeros((2, 50), bool)})
    idata.attrs.update({"fit_key": "k", "scenario_name": "baseline"})
    return idata


def test_save_load_roundtrip_and_identical_bytes(tmp_path):
    a, b = tmp_path / "a" / "idata.nc", tmp_path / "b" / "idata.nc"
    cache.save(tiny_idata(), a)
    cache.save(tiny_idata(), b)  # arviz stamps created_at on each group; stripped before writing
    assert a.read_bytes() == b.read_bytes()
    assert cache.verify(a) is None
    idata, problem = cache.load(a)
    assert problem is None and idata.posterior["gap"].shape == (2, 50, 3)
    assert all("created_at" not in getattr(idata, g).attrs for g in idata.groups())
    meta = json.loads(cache.checksum_path(a).read_text(encoding="utf-8"))
    assert meta == {"sha256": sha256_file(a), "bytes": a.stat().st_size, "fit_key": "k", "scenario_name": "baseline"}


def test_variable_order_does_not_change_the_bytes(tmp_path):
    """PyMC's prior group lists its variables in the order of a set of names (Python's string
    hashing, different in every process); the saved file must not depend on it."""
    import arviz as az

    rng = np.random.default_rng(3)
    values = {name: rng.normal(size=(1, 20)) for name in ("b", "a", "c")}
    first = az.from_dict(prior=values)
    second = az.from_dict(prior={k: values[k] for k in ("c", "a", "b")})
    assert list(first.prior.data_vars) != list(second.prior.data_vars)
    a, b = tmp_path / "a" / "idata.nc", tmp_path / "b" / "idata.nc"
    cache.save(first, a)
    cache.save(second, b)
    assert a.read_bytes() == b.read_bytes()
    loaded, problem = cache.load(a)
    assert problem is None and list(loaded.prior.data_vars) == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.prior["b"].values, values["b"])


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _overwrite_middle(p):
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\xff" * 64
    p.write_bytes(bytes(data))


def _garbage_with_matching_checksum(p):
    p.write_bytes(b"not a netcdf file" * 10)
    atomic_write_json(cache.checksum_path(p), {"sha256": sha256_file(p), "bytes": p.stat().st_size})


def _no_checksum(p):
    cache.checksum_path(p).unlink()


CORRUPTIONS = {
    "truncated": (_truncate, r"^size [\d,]+ bytes, [\d,]+ when saved \(truncated or replaced\)$"),
    "bytes overwritten": (_overwrite_middle, r"^sha256 differs from the one saved with it \(the file was modified\)$"),
    "unreadable": (_garbage_with_matching_checksum, r"^unreadable \("),
    "no checksum": (_no_checksum, r"^no checksum beside it"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_corrupt_entry_never_used(tmp_path, case):
    mutate, pattern = CORRUPTIONS[case]
    path = tmp_path / "k" / "idata.nc"
    cache.save(tiny_idata(), path)
    mutate(path)
    idata, problem = cache.load(path)
    assert idata is None
    assert problem is not None and __import__("re").match(pattern, problem), problem


@pytest.fixture
def fake_fit(monkeypatch, tmp_path, raw_dir):
    """run_fit with the sampler replaced by a tiny idata; counts fresh fits."""
    import analysis.model.fit as fit
    from analysis.data.ingest import ingest, read_observations
    from analysis.scenarios import load_scenario

    calls = []

    def fresh(evidence, scenario, settings, progressbar):
        calls.append(1)
        return tiny_idata(len(calls)), {"sample_s": 0.0}

    monkeypatch.setattr(fit, "_fit_fresh", fresh)
    ingest(raw_dir, tmp_path / "derived")
    obs = read_observations(tmp_path / "derived")
    sc = load_scenario("baseline")
    settings = fit.SamplerSettings.from_scenario(sc, quick=True)
    return lambda: fit.run_fit(obs, sc, settings, cache_dir=tmp_path / "fits"), calls


@pytest.mark.parametrize("case", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_run_fit_refits_a_corrupt_cache(fake_fit, case, capsys):
    run, calls = fake_fit
    first = run()
    assert (first.from_cache, len(calls)) == (False, 1)
    assert run().from_cache is True and len(calls) == 1
    CORRUPTIONS[case][0](first.path)
    again = run()
    assert (again.from_cache, len(calls)) == (False, 2)
    err = capsys.readouterr().err
    assert f"tgap: cached fit {first.path} not used: " in err and err.rstrip().endswith("; refitting")
    assert cache.verify(first.path) is None  # rewritten whole
    assert run().from_cache is True and len(calls) == 2


def test_cache_cli(tmp_path):
    fits = tmp_path / "fits"
    for key in ("aaa", "bbb"):
        cache.save(tiny_idata(), fits / key / "idata.nc")
    listed = runner.invoke(app, ["cache", "list", "--cache-dir", str(fits)])
    assert listed.exit_code == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()[:2]] == [["aaa", "baseline"], ["bbb", "baseline"]]
    assert runner.invoke(app, ["cache", "verify", "--cache-dir", str(fits)]).stdout.splitlines()[-1] == "2 ok, 0 bad"
    _truncate(fits / "bbb" / "idata.nc")
    checked = runner.invoke(app, ["cache", "verify", "--cache-dir", str(fits)])
    assert checked.exit_code == 1
    assert checked.stdout.splitlines()[1].startswith("bbb  baseline                 BAD: size ")
    assert checked.stdout.splitlines()[-1] == "1 ok, 1 bad"
    cleared = runner.invoke(app, ["cache", "clear", "--bad", "--cache-dir", str(fits)])
    assert cleared.stdout.strip() == f"removed 1 cached fit(s) from {fits}"
    assert [p.name for p in fits.iterdir()] == ["aaa"]
    assert runner.invoke(app, ["cache", "clear", "--cache-dir", str(fits)]).exit_code == 0
    assert list(fits.iterdir()) == []


def test_one_checksum_helper_for_every_cache():
    """analysis.io.checksum_record/checksum_problem: the fit cache, the chart cache and the report
    memo all check their entries with it."""
    from analysis.io import checksum_problem, checksum_record

    data = b"draws" * 100
    record = checksum_record(data)
    assert record == {"sha256": sha256_file_bytes(data), "bytes": 500}
    assert checksum_problem(data, record) is None
    assert checksum_problem(data[:-1], record) == "size 499 bytes, 500 when saved (truncated or replaced)"
    assert checksum_problem(b"x" + data[1:], record) == \
        "sha256 differs from the one saved with it (the file was modified)"
    with pytest.raises(KeyError):
        checksum_problem(data, {"bytes": 500})


def sha256_file_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
