"""A seeded corpus of mutated raw-data directories (issue 18): each case is one mutation of the
fixture data (tests/conftest.py). ``cases(seed)`` returns (name, mutate(dir)) pairs; the test in
test_mutation_corpus.py runs check + ingest on each and requires FILE:ROW:COLUMN refusals (exit 1,
output untouched) or an accepted case with a written reason (ACCEPTED)."""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

from analysis.data import rules

OBS_FILES = [name for name, _ in rules.FAMILIES.values()]

CELL_VALUES = {
    "numeric": ["inf", "-inf", "nan", "1e309", "1e15", "2.4e3", "0x10", "1_000", "12abc", "-5", "+5", "１２"],
    "year": ["2.01e3", "2010.0", "20100", "99", "-2010", "twenty", "１９９９"],
    "slug": ["=cmd|' /C calc'!A0", "+1+cmd", "@SUM(1)", "Has Space", "a\x00b", "-x"],
    "free": ["=cmd|' /C calc'!A0", "+1+cmd", "@SUM(1)", "-note", "a\x00b", "a\x1bb", "x\u2028y", "\x7f"],
    "category": ["=1+1", "UNKNOWN", "a\x00b", ""],
    "date": ["2019-13-45", "2019-02-30", "19-01-01", "2019/01/01", "2019-1-1", "=NOW()"],
    "url": ["javascript:alert(1)", "//evil.example/x", "ftp://x.example", "http://", "https://a b", "=HYPERLINK(1)"],
}
OBS_COLUMNS = {
    "numeric": ["value"], "year": ["year", "year_end"], "slug": ["series", "flag", "obs_id"],
    "free": ["notes", "locator"], "category": ["unit", "kind", "organ", "donor_type", "qualifier"],
}
SOURCE_COLUMNS = {"free": ["title", "author", "notes"], "date": ["published"], "url": ["url", "archive_url"],
                  "category": ["kind"]}


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def set_cell(file: str, line: int, column: str, value: str):
    def mutate(d: Path):
        rows = _rows(d / file)
        rows[line - 1][rows[0].index(column)] = value
        _write(d / file, rows)
    return mutate


def _bytes(file: str, fn):
    def mutate(d: Path):
        (d / file).write_bytes(fn((d / file).read_bytes()))
    return mutate


def _file_cases(rng: random.Random) -> list[tuple[str, object]]:
    out = []
    for f in OBS_FILES + [rules.SOURCES_FILE]:
        out += [
            (f"{f}: CR-only line ends", _bytes(f, lambda b: b.replace(b"\n", b"\r"))),
            (f"{f}: CRLF line ends", _bytes(f, lambda b: b.replace(b"\n", b"\r\n"))),
            (f"{f}: UTF-8 BOM", _bytes(f, lambda b: b"\xef\xbb\xbf" + b)),
            (f"{f}: truncated mid-row", _bytes(f, lambda b: b[: len(b) - 7])),
            (f"{f}: latin-1 byte", _bytes(f, lambda b: b[:-3] + b"\xe9" + b[-3:])),
            (f"{f}: trailing blank lines", _bytes(f, lambda b: b + b"\n\n")),
            (f"{f}: header only", _bytes(f, lambda b: b.split(b"\n", 1)[0] + b"\n")),
            (f"{f}: empty", _bytes(f, lambda b: b"")),
            (f"{f}: extra column", _bytes(f, lambda b: b.replace(b"\n", b",x\n"))),
            (f"{f}: is a directory", _to_dir(f)),
            (f"{f}: symlink outside", _symlink_out(f)),
        ]
    out += [(f"{f}: duplicate last row", _dup_last(f)) for f in OBS_FILES]
    return out


def _to_dir(f):
    def mutate(d):
        (d / f).unlink()
        (d / f).mkdir()
    return mutate


def _symlink_out(f):
    def mutate(d):
        outside = d.parent / f"outside-{f}"
        outside.write_bytes((d / f).read_bytes())
        (d / f).unlink()
        os.symlink(outside, d / f)
    return mutate


def _dup_last(f):
    def mutate(d):
        rows = _rows(d / f)
        _write(d / f, rows + [rows[-1]])
    return mutate


def cases(seed: int = 18, data_rows: dict[str, int] | None = None) -> list[tuple[str, object]]:
    """Every file-level mutation, plus each cell value in a seeded random row of each column kind."""
    rng = random.Random(seed)
    data_rows = data_rows or {}
    out = _file_cases(rng)
    for f in OBS_FILES:
        for kind, cols in OBS_COLUMNS.items():
            for value in CELL_VALUES[kind]:
                col = rng.choice(cols)
                line = rng.randint(2, data_rows.get(f, 2) + 1)
                out.append((f"{f}:{line}:{col} = {value!r}", set_cell(f, line, col, value)))
    for kind, cols in SOURCE_COLUMNS.items():
        for value in CELL_VALUES[kind]:
            col = rng.choice(cols)
            out.append((f"sources.csv:2:{col} = {value!r}", set_cell(rules.SOURCES_FILE, 2, col, value)))
    return out
