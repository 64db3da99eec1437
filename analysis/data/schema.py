"""Pandera schemas for data/raw/ and the translation of their failures into Problems.

Cells arrive as strings (see ``read.py``). ``type_columns`` parses the numeric columns and reports
cells that are not numbers; the schemas then check required fields, allowed values, ranges,
uniqueness and the cross-column rules (bounds order, quote contains the figure, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.data import rules
from analysis.data.problems import Problem
from analysis.data.quotes import check_quote


def _blank_to_na(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.replace({"": np.nan}).astype(object)


def type_columns(frame: pd.DataFrame, file: str, integer: list[str], numeric: list[str]):
    """Parse number columns; return (typed frame, problems for cells that are not numbers)."""
    out = _blank_to_na(frame)
    problems = []
    for col in integer + numeric:
        raw = out[col]
        parsed = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & parsed.isna()
        if col in integer:
            frac = parsed.notna() & (parsed != parsed.round())
            bad |= frac
            parsed = parsed.where(~frac)
        for line in raw.index[bad]:
            kind = "an integer" if col in integer else "a number"
            problems.append(Problem(file, int(line), col, "type", f"{raw[line]!r} is not {kind}"))
        out[col] = parsed.astype("Int64" if col in integer else "float64")
    return out, problems


def _allowed(values: list[str]) -> pa.Check:
    return pa.Check.isin(values)


def _text(required: bool, checks=None, unique=False) -> pa.Column:
    checks = list(checks or [])
    if required:
        checks.append(pa.Check.str_length(min_value=1))
    return pa.Column(object, checks, nullable=not required, unique=unique)


def sources_schema() -> pa.DataFrameSchema:
    cols = {c: _text(c in rules.SOURCE_REQUIRED) for c in rules.SOURCE_COLUMNS}
    cols["source_id"] = _text(True, [pa.Check.str_matches(rules.SOURCE_ID_PATTERN)], unique=True)
    cols["kind"] = _text(True, [_allowed(rules.SOURCE_KINDS)])
    cols["published"] = _text(True, [pa.Check.str_matches(rules.DATE_PATTERN)])
    cols["url"] = _text(True, [pa.Check.str_matches(r"^https?://")])
    return pa.DataFrameSchema(cols, name="sources")


def origins_schema() -> pa.DataFrameSchema:
    cols = {c: _text(c in rules.ORIGIN_REQUIRED) for c in rules.ORIGIN_COLUMNS}
    cols["id"] = _text(True, [pa.Check.str_matches(rules.ORIGIN_ID_PATTERN)], unique=True)
    cols["kind"] = _text(True, [_allowed(rules.ORIGIN_KINDS)])
    return pa.DataFrameSchema(cols, name="origins")


def _wide(name: str, fn) -> pa.Check:
    """A row-wise check; ``name`` is ``rule|column`` so failures can be placed in a column."""
    return pa.Check(fn, name=name)


def _bounds_ok(d: pd.DataFrame, lo: str, hi: str) -> pd.Series:
    return ~(d[lo].notna() & d[hi].notna() & (d[lo] > d[hi]))


def _quote_ok(d: pd.DataFrame) -> pd.Series:
    return pd.Series([quote_reason(r) is None for r in d.itertuples()], index=d.index)


def quote_reason(row) -> str | None:
    if not isinstance(row.quote, str) or not row.quote:
        return None  # reported by the "required" rule
    form = row.quote_form if isinstance(row.quote_form, str) else "digits"
    if form not in rules.QUOTE_FORMS:
        return None  # reported by allowed-values
    for col in rules.NUMERIC_COLUMNS:
        figure = getattr(row, col)
        if pd.notna(figure):
            reason = check_quote(float(figure), row.quote, form, row.unit)
            if reason:
                return f"{col} {reason}"
    return None


def observations_schema(units: list[str], source_ids: list[str], year_min: int, year_max: int,
                        origin_ids: list[str] | None):
    """``origin_ids`` None: origins.csv could not be read (reported there), origins not checked."""
    years = pa.Check.in_range(year_min, year_max)
    cols = {c: _text(c in rules.OBS_REQUIRED) for c in rules.OBS_COLUMNS}
    cols.update(
        obs_id=_text(True, [pa.Check.str_matches(rules.ID_PATTERN)], unique=True),
        year=pa.Column("Int64", [years], nullable=False),
        year_end=pa.Column("Int64", [years], nullable=True),
        value=pa.Column(float, [pa.Check.ge(0)], nullable=True),
        low=pa.Column(float, [pa.Check.ge(0)], nullable=True),
        high=pa.Column(float, [pa.Check.ge(0)], nullable=True),
        qualifier=_text(False, [_allowed(rules.QUALIFIERS)]),
        unit=_text(True, [_allowed(units)]),
        kind=_text(True, [_allowed(rules.KINDS)]),
        organ=_text(False, [_allowed(rules.ORGANS)]),
        donor_type=_text(False, [_allowed(rules.DONOR_TYPES)]),
        source_id=_text(True, [_allowed(source_ids)]),
        origin=_text(True, [_allowed(origin_ids)] if origin_ids is not None else []),
        quote_form=_text(False, [_allowed(rules.QUOTE_FORMS)]),
    )
    share = lambda d: d["unit"] == "share"  # noqa: E731
    checks = [
        _wide("value-or-range|value", lambda d: d[rules.NUMERIC_COLUMNS].notna().any(axis=1)),
        _wide("low<=value|low", lambda d: _bounds_ok(d, "low", "value")),
        _wide("value<=high|high", lambda d: _bounds_ok(d, "value", "high")),
        _wide("low<=high|high", lambda d: _bounds_ok(d, "low", "high")),
        _wide("year<=year_end|year_end", lambda d: _bounds_ok(d, "year", "year_end")),
        _wide("share-in-0-1|value", lambda d: ~share(d) | ~(d["value"] > 1)),
        _wide("share-in-0-1|low", lambda d: ~share(d) | ~(d["low"] > 1)),
        _wide("share-in-0-1|high", lambda d: ~share(d) | ~(d["high"] > 1)),
        _wide("denominator-required|denominator", lambda d: ~share(d) | d["denominator"].notna()),
        _wide("quote-contains-figure|quote", _quote_ok),
        _wide("unique-key|obs_id", lambda d: ~d[rules.NATURAL_KEY].astype(str).duplicated(keep=False)),
    ]
    return pa.DataFrameSchema(cols, checks=checks, name="observations")


_RULES = [
    ("not_nullable", "required"),
    ("str_length", "required"),
    ("field_uniqueness", "unique"),
    ("isin", "allowed-values"),
    ("greater_than_or_equal_to", "non-negative"),
    ("in_range", "year-range"),
    ("str_matches", "pattern"),
]


def _describe(rule: str, column: str, case, frame: pd.DataFrame, line: int, allowed: dict) -> str:
    if rule == "required":
        return "empty"
    if rule == "allowed-values":
        return f"{case!r} not one of {', '.join(allowed.get(column, []))}"
    if rule == "non-negative":
        return f"{case:g} < 0"
    if rule == "unique":
        return f"{case!r} appears more than once"
    if rule == "year-range":
        return f"{case} outside {allowed['years']}"
    if rule == "pattern":
        return f"{case!r} does not match {allowed.get('pattern:' + column, 'the pattern')}"
    row = frame.loc[line]
    if rule == "quote-contains-figure":
        return quote_reason(_RowView(row)) or "figure not found in quote"
    if rule == "unique-key":
        key = ", ".join(f"{c}={row[c]}" for c in rules.NATURAL_KEY if pd.notna(row[c]))
        return f"another row has the same key ({key})"
    if rule == "value-or-range":
        return "value, low and high are all empty"
    if rule == "denominator-required":
        return "share row without a denominator"
    if rule.startswith("share-in-0-1"):
        return f"{row[column]:g} > 1"
    if "<=" in rule:
        a, b = rule.split("<=")
        return f"{a}={row[a]:g} > {b}={row[b]:g}" if a != "year" else f"year_end={row[b]} < year={row[a]}"
    return repr(case)


class _RowView:
    def __init__(self, row: pd.Series):
        self.__dict__.update({k: (None if pd.isna(v) else v) for k, v in row.items()})


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame, file: str, allowed: dict) -> list[Problem]:
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    problems: set[Problem] = set()
    for case in cases.itertuples():
        check = str(case.check)
        if case.index is None or (isinstance(case.index, float) and np.isnan(case.index)):
            if check.startswith("dtype("):
                continue  # a typed column always has its dtype; ignore pandera's echo
            problems.add(Problem(file, 0, str(case.column), "schema", f"{check}: {case.failure_case}"))
            continue
        line = int(case.index)
        if "|" in check:
            rule, column = check.split("|", 1)
        else:
            rule = next((r for prefix, r in _RULES if check.startswith(prefix)), check)
            column = str(case.column)
            if rule == "allowed-values" and column == "source_id":
                problems.add(Problem(file, line, column, "source-exists", f"{case.failure_case!r} is not a source_id in sources.csv"))
                continue
            if rule == "allowed-values" and column == "origin":
                problems.add(Problem(file, line, column, "origin-exists", f"{case.failure_case!r} is not an id in origins.csv"))
                continue
        problems.add(Problem(file, line, column, rule, _describe(rule, column, case.failure_case, frame, line, allowed)))
    return sorted(problems, key=Problem.sort_key)


def allowed_values(units: list[str], year_min: int, year_max: int) -> dict:
    return {
        "qualifier": rules.QUALIFIERS, "unit": units, "kind": rules.KINDS, "organ": rules.ORGANS,
        "donor_type": rules.DONOR_TYPES, "quote_form": rules.QUOTE_FORMS,
        "source_id": ["an id in sources.csv"],
        "years": f"{year_min}-{year_max}",
        "pattern:obs_id": rules.ID_PATTERN, "pattern:source_id": rules.SOURCE_ID_PATTERN,
        "pattern:published": "YYYY, YYYY-MM or YYYY-MM-DD", "pattern:url": "http(s)://...",
    }


def origin_allowed() -> dict:
    return {"kind": rules.ORIGIN_KINDS, "pattern:id": rules.ORIGIN_ID_PATTERN}


def source_allowed() -> dict:
    return {"kind": rules.SOURCE_KINDS, "pattern:source_id": rules.SOURCE_ID_PATTERN,
            "pattern:published": "YYYY, YYYY-MM or YYYY-MM-DD", "pattern:url": "http(s)://..."}
