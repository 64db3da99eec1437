"""Domain rules for data/raw/: what a cell may hold beyond its type (see docs/data.md, "Domain rules").

The schemas (``schema.py``) check types, allowed values and cross-column rules on parsed cells.
The rules here look at the cells as written (strings), so that forms the parsers would silently
accept are refused before they reach the model:

- numbers finite and written as plain decimals (no ``inf``, ``1e15``, ``nan``), and not above
  the ceiling for their unit (:data:`CEILINGS`);
- years written as plain four-digit integers (``2.01e3`` parses as 2010);
- ``published`` an ISO date that exists (``2019-13-45`` is refused);
- slugs (``series``, ``flag``) matching their documented patterns;
- ``url`` / ``archive_url`` absolute http(s) links with a host;
- no control characters (NUL, ESC, ...) or Unicode line/paragraph separators in any cell.

Each function returns :class:`Problem` objects in the ``FILE:ROW:COLUMN: rule: found`` form and
never raises on odd input. Cells that do not parse at all are left to ``type_columns``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from urllib.parse import urlsplit

import pandas as pd

from analysis.data import rules
from analysis.data.problems import Problem

# Largest plausible figure per unit, for one-year rows and for cumulative or multi-year rows
# (kind "cumulative", or year_end after year). China's
# highest published yearly totals are ~1e5 transplants (independent estimates) and ~2.4e4
# executions; a ceiling is an order of magnitude or more above anything published, so it only
# catches typing slips (an extra zero block, 1e15), not disputed figures.
CEILINGS: dict[str, dict[str, float]] = {
    # unit: {"yearly": ceiling, "cumulative": ceiling}
    "transplants": {"yearly": 1_000_000, "cumulative": 10_000_000},
    "organs": {"yearly": 1_000_000, "cumulative": 10_000_000},
    "donors": {"yearly": 100_000, "cumulative": 1_000_000},
    "executions": {"yearly": 100_000, "cumulative": 1_000_000},
    "share": {"yearly": 1.0, "cumulative": 1.0},
}

DECIMAL = re.compile(r"^\d+(\.\d+)?$")
YEAR = re.compile(r"^\d{4}$")
SLUG = re.compile(rules.ID_PATTERN)
FLAG_PATTERN = r"^[a-z0-9][a-z0-9_.-]*(;[a-z0-9][a-z0-9_.-]*)*$"  # slugs separated by ";"
FLAG = re.compile(FLAG_PATTERN)
# C0 controls except tab and line feed, DEL, C1 controls, Unicode line/paragraph separators
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
PUBLISHED_YEARS = (1900, 2100)


def _cells(frame: pd.DataFrame, column: str):
    for line, cell in frame[column].items():
        if isinstance(cell, str) and cell != "":
            yield int(line), cell


def control_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for col in frame.columns:
        for line, cell in _cells(frame, col):
            m = CONTROL.search(cell)
            if m:
                out.append(Problem(file, line, col, "control-character",
                                   f"U+{ord(m.group()):04X} at character {m.start() + 1}"))
    return out


def _multi_year(frame: pd.DataFrame, line: int) -> bool:
    """A row whose figure spans several years (year_end after year)."""
    try:
        return int(frame.at[line, "year_end"]) > int(frame.at[line, "year"])
    except (TypeError, ValueError):
        return False


def _number_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for col in rules.NUMERIC_COLUMNS:
        for line, cell in _cells(frame, col):
            try:
                x = float(cell)
            except ValueError:
                continue  # reported by type_columns
            if not math.isfinite(x):
                out.append(Problem(file, line, col, "finite", f"{cell!r} is not a finite number"))
                continue
            if not DECIMAL.match(cell.lstrip("-")):
                out.append(Problem(file, line, col, "number-form",
                                   f"{cell!r}: write numbers as plain decimals (e.g. 20201 or 0.1203)"))
            unit = frame.at[line, "unit"]
            span = "cumulative" if frame.at[line, "kind"] == "cumulative" or _multi_year(frame, line) else "yearly"
            ceiling = CEILINGS.get(unit, {}).get(span)
            if ceiling is not None and unit != "share" and x > ceiling:
                out.append(Problem(file, line, col, "ceiling",
                                   f"{x:g} above the {span} ceiling for {unit} ({ceiling:,.0f})"))
    return out


def _year_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for col in ("year", "year_end"):
        for line, cell in _cells(frame, col):
            try:
                float(cell)
            except ValueError:
                continue  # reported by type_columns
            if not YEAR.match(cell):
                out.append(Problem(file, line, col, "year-form", f"{cell!r} is not a four-digit year"))
    return out


def _slug_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for line, cell in _cells(frame, "series"):
        if not SLUG.match(cell):
            out.append(Problem(file, line, "series", "pattern", f"{cell!r} does not match {rules.ID_PATTERN}"))
    for line, cell in _cells(frame, "flag"):
        if not FLAG.match(cell):
            out.append(Problem(file, line, "flag", "pattern", f"{cell!r} does not match {FLAG_PATTERN}"))
    return out


def observation_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Domain problems of one observation file (a frame of str cells indexed by line)."""
    if frame.empty:
        return [Problem(file, 0, "-", "rows", "no observation rows; each observation file needs at least one")]
    return (control_problems(frame, file) + _number_problems(frame, file) + _year_problems(frame, file)
            + _slug_problems(frame, file))


def date_problem(cell: str) -> str | None:
    """Why ``cell`` is not an existing ISO date (YYYY, YYYY-MM or YYYY-MM-DD), or None."""
    m = re.match(rules.DATE_PATTERN, cell)
    if not m:
        return None  # reported by the schema's pattern rule
    parts = [int(p) for p in cell.split("-")]
    if not PUBLISHED_YEARS[0] <= parts[0] <= PUBLISHED_YEARS[1]:
        return f"{cell!r}: year outside {PUBLISHED_YEARS[0]}-{PUBLISHED_YEARS[1]}"
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as exc:
        return f"{cell!r} is not a date ({exc})"
    return None


def url_problem(cell: str, scheme_checked: bool) -> str | None:
    """Why ``cell`` is not an absolute http(s) URL with a host, or None."""
    if scheme_checked and not re.match(r"^https?://", cell):
        return None  # reported by the schema's pattern rule
    try:
        parts = urlsplit(cell)
    except ValueError as exc:
        return f"{cell!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"{cell!r}: only http:// and https:// links are allowed"
    if not parts.hostname or any(c.isspace() for c in cell):
        return f"{cell!r}: no host name, or white space in the link"
    return None


def source_problems(frame: pd.DataFrame, file: str = rules.SOURCES_FILE) -> list[Problem]:
    """Domain problems of sources.csv (a frame of str cells indexed by line)."""
    out = control_problems(frame, file)
    for line, cell in _cells(frame, "published"):
        reason = date_problem(cell)
        if reason:
            out.append(Problem(file, line, "published", "date", reason))
    for col, checked in (("url", True), ("archive_url", False)):
        for line, cell in _cells(frame, col):
            reason = url_problem(cell, checked)
            if reason:
                out.append(Problem(file, line, col, "url", reason))
    return out
