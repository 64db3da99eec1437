"""Read one raw CSV file into a frame of strings indexed by its line numbers.

Problems that stop a file from being read (missing, not UTF-8, wrong header, ragged rows) are
reported in the ``FILE:ROW:COLUMN`` form; everything else is left to the schemas.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from analysis.data.problems import Problem


def _utf8_problems(name: str, raw: bytes) -> list[Problem]:
    problems = []
    header_line = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    try:
        header = [h.strip() for h in next(csv.reader([header_line]), [])]
    except csv.Error:
        header = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = line.decode("utf-8", errors="replace")
            column = "-"
            try:
                fields = next(csv.reader([text]))
                i = next(i for i, f in enumerate(fields) if "\ufffd" in f)
                column = header[i] if lineno > 1 and i < len(header) else str(i + 1)
            except (StopIteration, csv.Error):
                pass
            bad = line[exc.start : exc.start + 1].hex()
            problems.append(
                Problem(name, lineno, column, "utf-8", f"invalid byte 0x{bad} at byte {exc.start + 1} of the line")
            )
    return problems


def _file_problem(path: Path) -> Problem | None:
    """A data file must be a regular file inside its directory (a symlink may not leave it)."""
    name = path.name
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(path.parent.resolve()):
            return Problem(name, 0, "-", "file-type", "symbolic link to a file outside the data directory")
    if not path.exists():
        return Problem(name, 0, "-", "file-missing", f"{name} not found in {path.parent}")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        return Problem(name, 0, "-", "file-type", f"{kind}; expected a CSV file")
    return None


def _newline_problems(name: str, raw: bytes) -> list[Problem]:
    """Carriage returns not followed by a line feed (old Mac line ends) break the CSV reader."""
    per_line: dict[int, int] = {}
    for m in re.finditer(rb"\r(?!\n)", raw):
        line = raw.count(b"\n", 0, m.start()) + 1
        per_line[line] = per_line.get(line, 0) + 1
    return [Problem(name, line, "-", "newline", f"{n} carriage return(s) without a line feed; "
                    "save the file with LF or CRLF line ends") for line, n in per_line.items()]


def read_table(path: Path, columns: list[str]) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Return (frame of str cells indexed by line number, problems)."""
    name = path.name
    problem = _file_problem(path)
    if problem:
        return None, [problem]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, 0, "-", "unreadable", exc.strerror or type(exc).__name__)]
    problems = _newline_problems(name, raw) or _utf8_problems(name, raw)
    if problems:
        return None, problems
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return None, [Problem(name, 1, "-", "header", "file is empty; expected header " + ",".join(columns))]
    header = [h.strip() for h in header]
    for col in columns:
        if col not in header:
            problems.append(Problem(name, 1, col, "header", "required column missing from header"))
    for col in header:
        if col not in columns:
            problems.append(Problem(name, 1, col or "-", "header", f"unknown column {col!r}"))
    if not problems and header != columns:
        problems.append(Problem(name, 1, "-", "header", "columns out of order; expected " + ",".join(columns)))
    if problems:
        return None, problems
    rows, index = [], []
    start = reader.line_num + 1
    try:
        for fields in reader:
            lineno = start
            start = reader.line_num + 1
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(columns):
                problems.append(
                    Problem(name, lineno, "-", "field-count", f"expected {len(columns)} fields, found {len(fields)}")
                )
                continue
            rows.append([f.strip() for f in fields])
            index.append(lineno)
    except (csv.Error, ValueError) as exc:
        problems.append(Problem(name, reader.line_num, "-", "csv-syntax", str(exc)))
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index(index, name="line"), dtype=object)
    return frame, problems
