"""Validate every file of a raw data directory; collect every problem, not only the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.data import domain, rules
from analysis.data.problems import DataError, Problem
from analysis.data.read import read_table
from analysis.data.schema import (
    allowed_values,
    observations_schema,
    origin_allowed,
    origins_schema,
    run_schema,
    source_allowed,
    sources_schema,
    type_columns,
)


@dataclass
class RawData:
    """The validated contents of a data directory (cells typed, blanks filled with defaults)."""

    data_dir: Path
    sources: pd.DataFrame
    origins: pd.DataFrame = field(default_factory=pd.DataFrame)
    families: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def files(self) -> list[Path]:
        names = [rules.SOURCES_FILE, rules.ORIGINS_FILE] + [f for f, _ in rules.FAMILIES.values()]
        return [self.data_dir / n for n in names]


def _finish_observations(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col, default in rules.DEFAULTS.items():
        out[col] = out[col].fillna(default)
    return out


def load_raw(data_dir: Path, year_min: int = rules.YEAR_MIN, year_max: int = rules.YEAR_MAX) -> RawData:
    """Read and validate data_dir; problems are collected in ``RawData.problems``."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    sources, read_problems = read_table(data_dir / rules.SOURCES_FILE, rules.SOURCE_COLUMNS)
    problems += read_problems
    source_ids: list[str] = []
    if sources is not None:
        problems += domain.source_problems(sources)
        sources = sources.replace({"": None})
        problems += run_schema(sources_schema(), sources, rules.SOURCES_FILE, source_allowed())
        source_ids = sorted({s for s in sources["source_id"].dropna()})
    origins, read_problems = read_table(data_dir / rules.ORIGINS_FILE, rules.ORIGIN_COLUMNS)
    problems += read_problems
    origin_ids: list[str] | None = None
    if origins is not None:
        origins = origins.replace({"": None})
        problems += run_schema(origins_schema(), origins, rules.ORIGINS_FILE, origin_allowed())
        origin_ids = sorted({o for o in origins["id"].dropna()})
    families = {}
    for family, (name, units) in rules.FAMILIES.items():
        frame, read_problems = read_table(data_dir / name, rules.OBS_COLUMNS)
        problems += read_problems
        if frame is None:
            continue
        problems += domain.observation_problems(frame, name)
        typed, type_problems = type_columns(frame, name, ["year", "year_end"], rules.NUMERIC_COLUMNS)
        problems += type_problems
        schema = observations_schema(units, source_ids, year_min, year_max, origin_ids)
        schema_problems = run_schema(schema, typed, name, allowed_values(units, year_min, year_max))
        mistyped = {p.row for p in type_problems if p.column in rules.NUMERIC_COLUMNS}
        problems += [p for p in schema_problems if not (p.rule == "value-or-range" and p.row in mistyped)]
        families[family] = _finish_observations(typed)
    problems += _cross_file_problems(families)
    return RawData(data_dir, sources if sources is not None else pd.DataFrame(),
                   origins if origins is not None else pd.DataFrame(), families,
                   sorted(set(problems), key=Problem.sort_key))


def _cross_file_problems(families: dict[str, pd.DataFrame]) -> list[Problem]:
    """obs_id must be unique across files, not only within one."""
    seen: dict[str, str] = {}
    problems = []
    for family, frame in families.items():
        name = rules.FAMILIES[family][0]
        for line, obs_id in frame["obs_id"].dropna().items():
            if obs_id in seen and seen[obs_id] != name:
                problems.append(Problem(name, int(line), "obs_id", "unique", f"{obs_id!r} also used in {seen[obs_id]}"))
            seen.setdefault(obs_id, name)
    return problems


def validate(data_dir: Path, **kwargs) -> RawData:
    """Like load_raw, but raise DataError when anything is wrong."""
    raw = load_raw(data_dir, **kwargs)
    if raw.problems:
        raise DataError(raw.problems)
    return raw
