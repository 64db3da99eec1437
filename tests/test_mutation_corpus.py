"""The seeded mutation corpus (tests/mutation_corpus.py, >= 100 cases): every case is refused with
FILE:ROW:COLUMN problems and exit 1, with no traceback and the previous ingest output byte for
byte unchanged, or accepted for a reason written here."""

from __future__ import annotations

import re
import shutil

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.data import rules

from .conftest import FAMILY_ROWS, write_raw
from .mutation_corpus import cases
from .test_check import snapshot

runner = CliRunner()
CASES = dict(cases(seed=18, data_rows={name: len(FAMILY_ROWS[f]) for f, (name, _) in rules.FAMILIES.items()}))
PROBLEM = re.compile(r"^[a-z_]+\.csv:\d+:([a-z_]+|-): [a-z0-9<=_-]+: .")

# pattern of the case name -> why the mutation is valid data
ACCEPTED = {
    r": CRLF line ends$": "CRLF is a standard CSV line end (RFC 4180); only a CR without LF is refused",
    r": UTF-8 BOM$": "a byte-order mark is a valid UTF-8 prefix, stripped on read",
    r": trailing blank lines$": "blank lines carry no row and are skipped",
    r":(notes|locator|title|author) = ['\"][=+@-]": "free text may start with = + - @; every CSV tgap writes "
                                         "neutralises such cells with a leading apostrophe (analysis/io.py)",
    r":(organ|donor_type|qualifier) = ''$": "a blank optional category takes its documented default (docs/data.md)",
}


def reason(name: str) -> str | None:
    return next((why for pattern, why in ACCEPTED.items() if re.search(pattern, name)), None)


def test_corpus_size():
    assert len(CASES) >= 100
    assert sum(reason(n) is None for n in CASES) >= 100  # refusals alone exceed 100


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    raw = write_raw(base / "raw")
    assert runner.invoke(app, ["ingest", "--data-dir", str(raw), "--out", str(base / "derived")]).exit_code == 0
    return base / "derived"


@pytest.mark.parametrize("name", list(CASES))
def test_mutation(name, ingested, tmp_path):
    raw, out = write_raw(tmp_path / "raw"), tmp_path / "derived"
    shutil.copytree(ingested, out)
    before = snapshot(out)
    CASES[name](raw)
    # ingest validates exactly like check (the same load_raw) and prints the same lines
    result = runner.invoke(app, ["ingest", "--data-dir", str(raw), "--out", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stdout.splitlines() if line]
    why = reason(name)
    if why is None:
        assert result.exit_code == 1 and lines, lines
        assert all(PROBLEM.match(line) for line in lines), lines
        assert snapshot(out) == before
    else:
        assert result.exit_code == 0, (why, lines)
