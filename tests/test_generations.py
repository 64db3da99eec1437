"""One ingest generation at a time; leftovers of dead runs removed; the one atomic writer and the
one CSV writer (file mode, crash safety, spreadsheet-formula neutralisation)."""

from __future__ import annotations

import json
import os
import stat
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

import analysis.data.ingest as ingest_mod
from analysis import io
from analysis.cli import app
from analysis.cli_support import ensure_observations
from analysis.data.ingest import ingest, read_observations, stale, stale_reason

from .test_check import set_cell, snapshot

runner = CliRunner()


def test_kill_between_renames_is_detected_and_reingested(raw_dir, tmp_path, monkeypatch):
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    old_manifest = (out / "manifest.json").read_bytes()
    set_cell(raw_dir / "executions.csv", 2, "notes", "edited")

    def killed(path, obj):  # the process dies after observations.csv, before manifest.json
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(ingest_mod, "atomic_write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest(raw_dir, out)
    monkeypatch.undo()
    assert (out / "manifest.json").read_bytes() == old_manifest  # a mixed pair is on disk ...
    assert "edited" in (out / "observations.csv").read_text(encoding="utf-8")
    assert stale_reason(raw_dir, out) == "raw files changed"  # ... and is never trusted
    # even when the raw files are put back, the pair does not match
    set_cell(raw_dir / "executions.csv", 2, "notes", "")
    assert stale_reason(raw_dir, out) == "observations.csv does not match manifest.json"
    obs = ensure_observations(raw_dir, out)  # readers re-ingest
    assert stale(raw_dir, out) is False
    assert "edited" not in set(obs["notes"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_corrupt_manifest_means_stale(raw_dir, tmp_path):
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    assert not stale(raw_dir, out)
    (out / "manifest.json").write_text("{trunc", encoding="utf-8")
    assert stale_reason(raw_dir, out) == "no ingested data"
    (out / "manifest.json").write_text("[]", encoding="utf-8")
    assert stale_reason(raw_dir, out) == "no ingested data"


def test_observations_edited_by_hand_means_stale(raw_dir, tmp_path):
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    with open(out / "observations.csv", "a", encoding="utf-8") as fh:
        fh.write("x\n")
    assert stale_reason(raw_dir, out) == "observations.csv does not match manifest.json"


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid += 1


def test_leftovers_of_dead_processes_removed_at_next_ingest(raw_dir, tmp_path):
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    dead, live = _dead_pid(), 1  # pid 1 is always running
    names = {
        f".observations.csv.{dead}.abc.tmp": True,
        f".manifest.json.{live}.abc.tmp": False,
        ".observations.csv.old.tmp": True,      # no pid, two hours old
        ".manifest.json.recent.tmp": False,     # no pid, just written: maybe a live run's
    }
    for name in names:
        (out / name).write_text("x", encoding="utf-8")
    old = time.time() - 7200
    os.utime(out / ".observations.csv.old.tmp", (old, old))
    (out / f".staging-{dead}-xyz").mkdir()
    (out / f".staging-{dead}-xyz" / "f.csv").write_text("x", encoding="utf-8")
    (out / f".staging-{live}-xyz").mkdir()
    ingest(raw_dir, out)
    left = {p.name for p in out.iterdir()}
    assert left == {"observations.csv", "manifest.json", f".staging-{live}-xyz"} | {
        n for n, gone in names.items() if not gone}


def test_failed_ingest_touches_nothing_not_even_leftovers(raw_dir, tmp_path):
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    (out / f".observations.csv.{_dead_pid()}.abc.tmp").write_text("x", encoding="utf-8")
    before = snapshot(out)
    set_cell(raw_dir / "volumes.csv", 2, "value", "inf")
    result = runner.invoke(app, ["ingest", "--data-dir", str(raw_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert snapshot(out) == before


def test_every_output_is_0644(raw_dir, tmp_path):
    old = os.umask(0o077)
    try:
        ingest(raw_dir, tmp_path / "derived")
        io.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        io.atomic_write_json(tmp_path / "m.json", {"a": 1})
        with io.atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    for p in [tmp_path / "derived/observations.csv", tmp_path / "derived/manifest.json",
              tmp_path / "t.csv", tmp_path / "m.json", tmp_path / "b.bin"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def test_atomic_path_leaves_target_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_formula_cells_neutralised_numbers_untouched(tmp_path):
    frame = pd.DataFrame({
        "text": ["=HYPERLINK(\"x\")", "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "-1,004", "'=x", None],
        "number": [-1.5, 2, -3, 4, 5, 6, 7, 8, 9, 10],
    })
    io.write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert back["text"].tolist() == ["'=HYPERLINK(\"x\")", "'+1+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
                                     "plain", "-1,004", "''=x", ""]
    assert back["number"].tolist() == [-1.5, 2, -3, 4, 5, 6, 7, 8, 9, 10]
    assert [io.unneutralise(c) for c in back["text"]][:-1] == frame["text"].tolist()[:-1]
    restored = io.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert restored["text"].tolist()[:-1] == frame["text"].tolist()[:-1]


def test_derived_observations_are_neutralised_and_read_back_exactly(raw_dir, tmp_path):
    set_cell(raw_dir / "volumes.csv", 2, "notes", "=cmd|' /C calc'!A0")
    set_cell(raw_dir / "executions.csv", 2, "locator", "-p. 3")
    out = tmp_path / "derived"
    ingest(raw_dir, out)
    text = (out / "observations.csv").read_text(encoding="utf-8")
    assert ",'=cmd|' /C calc'!A0" in text.replace('"', "") and ",'-p. 3," in text
    obs = read_observations(out).set_index("obs_id")
    assert obs.loc["vol-1", "notes"] == "=cmd|' /C calc'!A0" and obs.loc["exe-1", "locator"] == "-p. 3"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["observations_sha256"] == io.sha256_file(out / "observations.csv")
