"""Read WHO-ONT GODT exports (Global Observatory on Donation and Transplantation) into one tidy table.

Two export formats are known (see ``FORMATS``):

- ``godt_2000_2017``: comma-separated, ``NA`` for missing, header
  ``REGION,COUNTRY,REPORTYEAR,POPULATION,TOTAL Actual DD,...,Small Bowel Tx``;
- ``godt_2020_2024``: semicolon-separated with decimal commas (``5222,0``), lower-case
  ``region;country;year;population``, ``Total Heart TX``, plus ``TOTAL tx`` and the derived columns
  ``development``, ``idh``, ``idx_region`` and ``pmp_*`` (which are dropped).

The format is detected from the header line alone: the delimiter is sniffed, then the column names
must match one format exactly (case and surrounding blanks ignored). Anything else raises a
``ValueError`` naming the file and the missing and unknown columns.

Output: one row per country-year, columns ``GODT_COLUMNS``: ``region``, ``country``, ``year`` (int),
``population_millions`` and the count columns in ``MEASURES`` (float, NaN where the export has no
figure), then ``source_file`` and ``source_sha256``. ``total_tx`` is only filled from exports that
state it; it is never computed. Country names are stripped of surrounding blanks and UTF-8 text that
was mis-decoded as cp1252 (``CÃ´te dâ€™Ivoire``) is repaired; no other renaming is done, so the same
country can be spelled differently in different exports (``Turkey`` / ``Türkiye``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import sha256_file

MEASURES = [
    "actual_dd", "actual_dbd", "actual_dcd", "utilized_dd", "utilized_dbd", "utilized_dcd",
    "dd_kidney_tx", "ld_kidney_tx", "total_kidney_tx", "dd_liver_tx", "domino_liver_tx",
    "ld_liver_tx", "total_liver_tx", "total_heart_tx", "dd_lung_tx", "ld_lung_tx", "total_lung_tx",
    "pancreas_tx", "kidney_pancreas_tx", "small_bowel_tx", "total_tx",
]
"""Count columns (donors or transplants per country-year), in output order."""

GODT_COLUMNS = ["region", "country", "year", "population_millions", *MEASURES,
                "source_file", "source_sha256"]
"""Columns of ``read_godt``; ``read_godt_many`` adds ``superseded``."""

_COMMON = {
    "TOTAL Actual DD": "actual_dd", "Actual DBD": "actual_dbd", "Actual DCD": "actual_dcd",
    "Total Utilized DD": "utilized_dd", "Utilized DBD": "utilized_dbd",
    "Utilized DCD": "utilized_dcd", "DD Kidney Tx": "dd_kidney_tx", "LD Kidney Tx": "ld_kidney_tx",
    "TOTAL Kidney Tx": "total_kidney_tx", "DD Liver Tx": "dd_liver_tx",
    "DOMINO Liver Tx": "domino_liver_tx", "LD Liver Tx": "ld_liver_tx",
    "TOTAL Liver TX": "total_liver_tx", "DD Lung Tx": "dd_lung_tx", "LD Lung Tx": "ld_lung_tx",
    "TOTAL Lung Tx": "total_lung_tx", "Pancreas Tx": "pancreas_tx",
    "Kidney Pancreas Tx": "kidney_pancreas_tx", "Small Bowel Tx": "small_bowel_tx",
}


@dataclass(frozen=True)
class GodtFormat:
    """One known export layout: header name -> output column, separators, ignorable extras."""

    name: str
    delimiter: str
    decimal: str
    columns: dict[str, str]
    ignored: tuple[str, ...] = ()
    ignored_prefixes: tuple[str, ...] = ()
    na_tokens: frozenset[str] = field(default_factory=lambda: frozenset({"", "NA"}))


FORMATS = (
    GodtFormat(
        name="godt_2000_2017", delimiter=",", decimal=".",
        columns={"REGION": "region", "COUNTRY": "country", "REPORTYEAR": "year",
                 "POPULATION": "population_millions", **_COMMON, "Total Heart": "total_heart_tx"},
    ),
    GodtFormat(
        name="godt_2020_2024", delimiter=";", decimal=",",
        columns={"region": "region", "country": "country", "year": "year",
                 "population": "population_millions", **_COMMON,
                 "Total Heart TX": "total_heart_tx", "TOTAL tx": "total_tx"},
        ignored=("development", "idh", "idx_region"), ignored_prefixes=("pmp_",),
    ),
)


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().lower()


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path.name}: not a GODT export: neither UTF-8 nor cp1252 text")


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _match(fmt: GodtFormat, header: list[str]) -> tuple[list[str], list[str]]:
    """(missing, unknown) header names of ``header`` against ``fmt``."""
    wanted = {_norm(h): h for h in fmt.columns}
    seen = {_norm(h) for h in header}
    missing = [orig for key, orig in wanted.items() if key not in seen]
    unknown = [
        h for h in header
        if _norm(h) not in wanted and _norm(h) not in {_norm(i) for i in fmt.ignored}
        and not any(_norm(h).startswith(_norm(p)) for p in fmt.ignored_prefixes)
    ]
    return missing, unknown


def detect_format(path: Path, header_line: str) -> tuple[GodtFormat, list[str]]:
    """Return (format, header fields) for a header line, or raise ValueError naming the problems."""
    delimiter = _sniff_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    normed = [_norm(h) for h in header]
    repeated = sorted({h for h, n in zip(header, normed, strict=True) if normed.count(n) > 1})
    if repeated:
        raise ValueError(f"{path.name}: not a GODT export: repeated columns: " + ", ".join(repeated))
    scored = []
    for fmt in FORMATS:
        missing, unknown = _match(fmt, header)
        if not missing and not unknown and fmt.delimiter == delimiter:
            return fmt, header
        scored.append((len(missing) + len(unknown) + (fmt.delimiter != delimiter), fmt, missing, unknown))
    _, fmt, missing, unknown = min(scored, key=lambda t: t[0])
    parts = [f"{path.name}: not a recognised GODT export (closest format {fmt.name!r}, "
             f"delimiter {fmt.delimiter!r}; found delimiter {delimiter!r})"]
    if missing:
        parts.append("missing columns: " + ", ".join(missing))
    if unknown:
        parts.append("unknown columns: " + ", ".join(unknown))
    raise ValueError("; ".join(parts))


def _repair_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip()
    try:
        fixed = name.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name
    return fixed


def _to_number(values: pd.Series, fmt: GodtFormat, path: Path, column: str) -> pd.Series:
    text = values.str.strip()
    na = text.isin(fmt.na_tokens)
    if fmt.decimal != ".":
        text = text.str.replace(fmt.decimal, ".", regex=False)
    parsed = pd.to_numeric(text.where(~na), errors="coerce")
    bad = ~na & parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{path.name}: line {i + 2}, column {column!r}: "
                         f"{values.iloc[i]!r} is not a number ({int(bad.sum())} such cell(s))")
    return parsed.astype("float64")


def read_godt(path: Path | str) -> pd.DataFrame:
    """Read one GODT export (either known format) into a tidy country-year table (``GODT_COLUMNS``).

    Raises ValueError (naming the file) for an unknown header, a cell that is not a number, a
    missing or non-integer year, an empty country, or a country-year listed twice.
    """
    path = Path(path)
    text = _read_text(path)
    header_line = text.splitlines()[0] if text.strip() else ""
    if not header_line.strip():
        raise ValueError(f"{path.name}: empty file, not a GODT export")
    fmt, header = detect_format(path, header_line)
    try:
        raw = pd.read_csv(StringIO(text), sep=fmt.delimiter, dtype=str, keep_default_na=False,
                          na_filter=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ValueError(f"{path.name}: cannot be read as a {fmt.name} export: {exc}") from None
    rename = {h: fmt.columns[orig] for h in header for orig in fmt.columns if _norm(h) == _norm(orig)}
    raw = raw[list(rename)].rename(columns=rename)
    out = pd.DataFrame(index=raw.index)
    out["region"] = raw["region"].map(_repair_name).astype(str)
    out["country"] = raw["country"].map(_repair_name).astype(str)
    if (out["country"] == "").any():
        line = int(np.flatnonzero((out["country"] == "").to_numpy())[0]) + 2
        raise ValueError(f"{path.name}: line {line}: empty country")
    year = _to_number(raw["year"], fmt, path, "year")
    if year.isna().any() or (year != year.round()).any():
        line = int(np.flatnonzero((year.isna() | (year != year.round())).to_numpy())[0]) + 2
        raise ValueError(f"{path.name}: line {line}: year {raw['year'].iloc[line - 2]!r} is not an integer")
    out["year"] = year.astype("int64")
    out["population_millions"] = _to_number(raw["population_millions"], fmt, path, "population")
    for col in MEASURES:
        out[col] = _to_number(raw[col], fmt, path, col) if col in raw else np.nan
    dup = out.duplicated(["country", "year"], keep=False)
    if dup.any():
        pairs = sorted({f"{c} {y}" for c, y in out.loc[dup, ["country", "year"]].itertuples(index=False)})
        raise ValueError(f"{path.name}: country-year listed more than once: " + ", ".join(pairs[:10]))
    out["source_file"] = path.name
    out["source_sha256"] = sha256_file(path)
    out = out.sort_values(["country", "year"], kind="mergesort").reset_index(drop=True)
    return out[GODT_COLUMNS]


def read_godt_many(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Concatenate several exports; for a country-year in more than one, the later path wins.

    The result has ``GODT_COLUMNS`` plus ``superseded``: the ``;``-joined file names whose row for
    that country-year was replaced ("" when none). Countries are matched by name as read.
    """
    frames = [read_godt(p) for p in paths]
    if not frames:
        return pd.DataFrame(columns=[*GODT_COLUMNS, "superseded"])
    allrows = pd.concat([f.assign(_order=i) for i, f in enumerate(frames)], ignore_index=True)
    allrows = allrows.sort_values(["country", "year", "_order"], kind="mergesort")
    keep = ~allrows.duplicated(["country", "year"], keep="last")
    dropped = allrows[~keep].groupby(["country", "year"])["source_file"].agg(";".join)
    out = allrows[keep].drop(columns="_order").reset_index(drop=True)
    key = pd.MultiIndex.from_frame(out[["country", "year"]])
    out["superseded"] = pd.Series(dropped.reindex(key).to_numpy(), index=out.index).fillna("").astype(str)
    return out


def long_format(df: pd.DataFrame, measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Country, year, measure, value: one row per non-missing figure (population included)."""
    measures = list(measures) if measures is not None else [
        c for c in ["population_millions", *MEASURES] if c in df.columns]
    long = df.melt(id_vars=["country", "year"], value_vars=measures, var_name="measure",
                   value_name="value")
    long = long.dropna(subset=["value"])
    long["measure"] = pd.Categorical(long["measure"], categories=measures, ordered=True)
    long = long.sort_values(["country", "year", "measure"], kind="mergesort")
    long["measure"] = long["measure"].astype(str)
    long["year"] = long["year"].astype("int64")
    long["value"] = long["value"].astype("float64")
    return long.reset_index(drop=True)[["country", "year", "measure", "value"]]
