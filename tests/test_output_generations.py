"""Fit, report and simulate outputs: one whole run at a time, the one writer, one file mode.

A fit or report folder is trusted only when its manifest.json lists the sha256 of every other file
and they match (``analysis.io.generation_problems``); the writers remove the old manifest before
the first rename and write the new one last, so a run killed while renaming leaves a folder
without a manifest, never one whose manifest vouches for files of two runs. Sampling is mocked
(tests/test_fit_plumbing.py); kills are injected, not timed (benchmarks/crash_trials.py kills real
processes)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

import analysis.io as io
from analysis.cli import app
from analysis.io import generation_problems
from tests.test_fit_plumbing import fit_args, mocked  # noqa: F401  (fixture)
from tests.test_generations import _dead_pid

runner = CliRunner()


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so no handler on the way catches it."""


FIT_FILES = {"idata.nc", "gap_by_year.csv", "gap_by_period.csv", "capacity_gap_by_year.csv",
             "executions_required.csv", "composition_test.csv", "evidence_tested.csv", "evidence_used.csv",
             "evidence_excluded.csv", "loo_claims.csv", "loo_pit_histogram.csv"}


def _modes(folder):
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()}


def test_fit_manifest_lists_every_file_and_all_are_0644(mocked, raw_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    old = os.umask(0o077)  # a user's restrictive umask: outputs still get one mode
    try:
        res = runner.invoke(app, fit_args(raw_dir, out, "--seed", "1"))
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.stdout + res.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == FIT_FILES
    assert manifest["files"]["idata.nc"] == io.sha256_file(out / "idata.nc")
    assert generation_problems(out) == []
    assert set(_modes(out).values()) == {0o644}
    cached = list((mocked.CACHE_DIR / "fits").rglob("*.*"))
    assert cached and {stat.S_IMODE(p.stat().st_mode) for p in cached} == {0o644}
    # a file changed afterwards is named
    with open(out / "gap_by_year.csv", "a", encoding="utf-8") as fh:
        fh.write("1\n")
    assert generation_problems(out) == ["gap_by_year.csv: sha256 differs from manifest.json"]


def test_fit_killed_while_renaming_leaves_no_manifest_then_next_run_is_whole(mocked, raw_dir, tmp_path,  # noqa: F811
                                                                           monkeypatch):
    out = tmp_path / "out"
    assert runner.invoke(app, fit_args(raw_dir, out, "--seed", "1")).exit_code == 0
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    import analysis.model.outputs as outputs

    def dies_after_three(staged):  # the process dies between the third and the fourth rename
        for tmp, target in staged[:3]:
            io.finish_file(tmp, target)
        raise Killed

    monkeypatch.setattr(outputs, "commit_files", dies_after_three)
    with pytest.raises(Killed):
        runner.invoke(app, fit_args(raw_dir, out, "--seed", "2"), catch_exceptions=False)
    monkeypatch.setattr(outputs, "commit_files", io.commit_files)  # (undo() would drop the mocked sampler too)
    # three new files beside six of the first run: on disk a mix, but no manifest vouches for it
    new = {n for n in FIT_FILES if io.sha256_file(out / n) != first[n]}
    assert new == {"idata.nc", "gap_by_year.csv", "gap_by_period.csv"}
    assert not (out / "manifest.json").exists()
    assert generation_problems(out) == ["no manifest.json (no complete run, or one interrupted while writing)"]
    # leftovers of a dead process, in the output folder and in the fit cache
    dead = _dead_pid()
    (out / f".gap_by_year.csv.{dead}.x.tmp").write_text("x", encoding="utf-8")
    key_dir = next((mocked.CACHE_DIR / "fits").iterdir())
    (key_dir / f".idata.nc.{dead}.x.tmp").write_text("x", encoding="utf-8")
    res = runner.invoke(app, fit_args(raw_dir, out, "--seed", "2"))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "loaded from cache" in res.stdout  # the cached fit of seed 2 was saved before the kill
    assert generation_problems(out) == []
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert not [p for p in key_dir.iterdir() if p.name.startswith(".")]


def _staged_report(folder, tag: str, figures: list[str]):
    folder.mkdir(parents=True)
    (folder / "figures").mkdir()
    files = {}
    for name in ["gap_by_year.csv", *[f"figures/{f}" for f in figures], "index.html"]:
        (folder / name).write_text(f"{tag} {name}\n", encoding="utf-8")
        files[name] = io.sha256_file(folder / name)
    (folder / "manifest.json").write_text(json.dumps({"report": {"files": files}}), encoding="utf-8")


def test_report_commit_killed_midway_leaves_no_manifest_and_drops_stale_figures(tmp_path, monkeypatch):
    import analysis.report.run as run

    out = tmp_path / "report"
    _staged_report(out, "old", ["a.png", "gone.png"])
    assert generation_problems(out) == []
    staging = tmp_path / "staging"
    _staged_report(staging, "new", ["a.png", "b.png"])
    calls = []

    def dies_after_two(tmp, target):
        if len(calls) == 2:
            raise Killed
        calls.append(target)
        io.finish_file(tmp, target)

    monkeypatch.setattr(run, "finish_file", dies_after_two)
    with pytest.raises(Killed):
        run._commit(staging, out)
    assert not (out / "manifest.json").exists() and not (out / "index.html").exists()
    assert generation_problems(out)[0].startswith("no manifest.json")
    monkeypatch.undo()
    staging2 = tmp_path / "staging2"
    old = os.umask(0o077)
    try:
        _staged_report(staging2, "new", ["a.png", "b.png"])  # staged files 0600, as under this umask
        order = run._commit(staging2, out)
    finally:
        os.umask(old)
    assert set(_modes(out).values()) == {0o644}
    assert order[-2:] == ["manifest.json", "index.html"]
    assert generation_problems(out) == []
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["a.png", "b.png"]  # gone.png removed


def test_simulate_writes_through_the_one_writer_whole_or_not_at_all(tmp_path, monkeypatch):
    import analysis.model.simulate as simulate
    from analysis.data.check import load_raw, validate
    from analysis.data.ingest import tidy_observations
    from analysis.model.worlds import generate, load_world
    from analysis.scenarios import load_scenario
    from tests.conftest import REPO

    template = tidy_observations(validate(REPO / "data" / "raw"))
    datasets, sources, _ = generate(load_world("official"), template, load_scenario("baseline"), 4, 1)
    obs, truth = datasets[0]
    out = tmp_path / "sim"
    old = os.umask(0o077)
    try:
        simulate.write_simulation(obs, sources, truth, out)
    finally:
        os.umask(old)
    assert [str(p) for p in load_raw(out).problems] == []
    assert set(_modes(out).values()) == {0o644}
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"truth.csv", "sources.csv", "volumes.csv"} <= set(before)

    real = simulate.csv_text

    def fails_on_truth(frame, **kw):
        if "gap" in frame.columns:
            raise OSError("disk full")
        return real(frame, **kw)

    monkeypatch.setattr(simulate, "csv_text", fails_on_truth)
    with pytest.raises(OSError):
        simulate.write_simulation(obs.assign(notes="changed"), sources, truth, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing half-written, no temp files
    monkeypatch.undo()

    def dies_in_renames(staged):
        raise OSError("rename failed")

    monkeypatch.setattr(io, "commit_files", dies_in_renames)
    with pytest.raises(OSError):
        simulate.write_simulation(obs.assign(notes="changed"), sources, truth, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_identical_fits_give_identical_idata_bytes(mocked, raw_dir, tmp_path, monkeypatch):  # noqa: F811
    """Every attr tgap and ArviZ write is a function of the inputs (``created_at`` is dropped), so
    two identical fits write the same idata.nc bytes. (Sampled in one process: across processes
    nutpie's draws themselves differ, docs/validation.md.)"""
    outs = []
    for run in ("a", "b"):
        monkeypatch.setattr(mocked, "CACHE_DIR", tmp_path / f"cache-{run}")  # both sample afresh
        out = tmp_path / run
        res = runner.invoke(app, fit_args(raw_dir, out, "--seed", "3"))
        assert res.exit_code == 0, res.stdout + res.stderr
        assert "loaded from cache" not in res.stdout
        outs.append(out)
    a, b = ((o / "idata.nc").read_bytes() for o in outs)
    assert a == b
    import arviz as az

    idata = az.from_netcdf(outs[0] / "idata.nc")
    assert all("created_at" not in getattr(idata, g).attrs for g in idata.groups())
    ma, mb = (json.loads((o / "manifest.json").read_text(encoding="utf-8")) for o in outs)
    assert ma["files"] == mb["files"]  # every output file, not only idata.nc
