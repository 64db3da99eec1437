"""The scenario keys a reviewer uses to re-read the data: row overrides by obs_id, include-only and
exclude lists by series, source, origin and organ, declared sources whose size is given
directly (``fixed_supply``), and a series' or origin's own bias and noise in place of its
evidence class's (``evidence.series_overrides``, ``evidence.origin_overrides``). Every name is checked against the data; an unknown one is refused
with the allowed names (:class:`~analysis.scenarios.ScenarioError`, exit 2 at the command line).
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from analysis.scenarios import Scenario, ScenarioError
from analysis.scenarios.spec import ERROR_OVERRIDE_KEYS, ERROR_PARTS, as_prior

OVERRIDE_COLUMNS = ("year", "year_end", "kind", "unit", "qualifier")
# units allowed per family (analysis/data/rules.py FAMILIES; the model layer sits above data)
_NAME_LISTS = {"include_series": "series", "exclude_series": "series", "include_sources": "source_id",
               "exclude_sources": "source_id", "include_origins": "origin", "exclude_origins": "origin"}
ORGANS_EXCLUDABLE = ("kidney", "liver", "heart", "lung", "kidney_liver", "other")
MAX_LISTED = 200  # allowed names listed in full up to this many (series, sources, origins); beyond
                  # (obs_ids), the closest matches


def _file(scenario: Scenario) -> str:
    return scenario.files[0].name if scenario.files else scenario.name


def _allowed(name: str, allowed: list[str], what: str) -> str:
    if len(allowed) <= MAX_LISTED:
        return f"unknown {what} {name!r}; allowed: " + ", ".join(allowed)
    close = difflib.get_close_matches(name, allowed, n=5, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    return f"unknown {what} {name!r} (not among the {len(allowed)} {what} values of the data){hint}"


def check_names(obs: pd.DataFrame, scenario: Scenario) -> None:
    """Raise ScenarioError for every series / source / origin / organ / obs_id the scenario names
    that the data do not have (every problem at once)."""
    rules = scenario.get("evidence.rules")
    problems = []
    for key, col in _NAME_LISTS.items():
        allowed = sorted(set(obs[col].dropna().astype(str)) - {""})
        for name in rules.get(key, []):
            if name not in allowed:
                problems.append((_file(scenario), f"evidence.rules.{key}",
                                 _allowed(name, allowed, col.replace("_id", ""))))
    for name in rules.get("exclude_organs", []):
        if name not in ORGANS_EXCLUDABLE:
            problems.append((_file(scenario), "evidence.rules.exclude_organs",
                             f"unknown organ {name!r}; allowed: {', '.join(ORGANS_EXCLUDABLE)}"))
    for table, col in ERROR_OVERRIDE_KEYS.items():
        allowed = sorted(set(obs[col].dropna().astype(str)) - {""})
        for name in scenario.get("evidence").get(table, {}):
            if name not in allowed:
                problems.append((_file(scenario), f"evidence.{table}.{name}", _allowed(name, allowed, col)))
    ids = sorted(obs["obs_id"].astype(str))
    known = set(ids)
    for obs_id in scenario.data.get("overrides", {}):
        if obs_id not in known:
            problems.append((_file(scenario), f"overrides.{obs_id}", _allowed(obs_id, ids, "obs_id")))
    for label, f in scenario.data.get("fixed_supply", {}).items():
        if "from_obs" in f and f["from_obs"] not in known:
            problems.append((_file(scenario), f"fixed_supply.{label}.from_obs",
                             _allowed(f["from_obs"], ids, "obs_id")))
    for label, r in scenario.data.get("replication", {}).items():
        for obs_id in r.get("source_obs", []):
            if obs_id not in known:
                problems.append((_file(scenario), f"replication.{label}.source_obs",
                                 _allowed(obs_id, ids, "obs_id")))
    if problems:
        raise ScenarioError.of(problems)


def apply_overrides(obs: pd.DataFrame, scenario: Scenario, units_of_family: dict | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations with the scenario's row overrides applied, one row per changed cell:
    obs_id, column, data value, scenario value, reason). Setting ``year`` of a single-year row
    moves its ``year_end`` too. A row that ends before it starts, or a unit its family cannot
    have, is refused."""
    overrides = scenario.data.get("overrides", {})
    changes = []
    if not overrides:
        return obs, pd.DataFrame(columns=["obs_id", "column", "data", "scenario", "reason"])
    obs = obs.copy()
    index = {o: i for i, o in zip(obs.index, obs["obs_id"].astype(str))}
    problems = []
    for obs_id, o in overrides.items():
        i = index[obs_id]
        single = obs.at[i, "year_end"] == obs.at[i, "year"]
        for col in OVERRIDE_COLUMNS:
            if col not in o:
                continue
            before = obs.at[i, col]
            obs.at[i, col] = o[col]
            changes.append({"obs_id": obs_id, "column": col, "data": before, "scenario": o[col],
                            "reason": o["reason"]})
        if "year" in o and "year_end" not in o and single:
            changes.append({"obs_id": obs_id, "column": "year_end", "data": obs.at[i, "year_end"],
                            "scenario": o["year"], "reason": o["reason"]})
            obs.at[i, "year_end"] = o["year"]
        if int(obs.at[i, "year_end"]) < int(obs.at[i, "year"]):
            problems.append((_file(scenario), f"overrides.{obs_id}",
                             f"the row would end ({obs.at[i, 'year_end']}) before it starts ({obs.at[i, 'year']})"))
        if units_of_family and "unit" in o:
            fam = obs.at[i, "family"]
            if o["unit"] not in units_of_family.get(fam, [o["unit"]]):
                problems.append((_file(scenario), f"overrides.{obs_id}.unit",
                                 f"unit {o['unit']!r} is not allowed in family {fam}; allowed: "
                                 + ", ".join(units_of_family[fam])))
    if problems:
        raise ScenarioError.of(problems)
    for col in ("year", "year_end"):
        obs[col] = obs[col].astype(int)
    return obs, pd.DataFrame(changes, columns=["obs_id", "column", "data", "scenario", "reason"])


def row_exclusion(r, rules: dict) -> str | None:
    """Why the include / exclude lists (series, source, origin, organ) leave row ``r`` out, or None."""
    for key, col, what in (("series", "series", "series"), ("sources", "source_id", "source"),
                           ("origins", "origin", "origin")):
        value = getattr(r, col)
        if rules[f"include_{key}"] and value not in rules[f"include_{key}"]:
            return f"{what} not in evidence.rules.include_{key}"
        if value in rules[f"exclude_{key}"]:
            return f"{what} excluded by the scenario"
    if r.organ in rules["exclude_organs"]:
        return f"organ {r.organ} excluded by the scenario (evidence.rules.exclude_organs)"
    return None


def fixed_supply(obs: pd.DataFrame, scenario: Scenario, years: np.ndarray) -> dict[str, dict]:
    """source -> {"values": organs a year, "mask": 1 where fixed} over ``years``, for every declared
    source whose size the scenario gives directly (``fixed_supply``); {} when none.

    per_year: that many organs in each year of [years]; total: spread evenly over [years]; from_obs:
    the level of a data row, its value divided by the number of years it covers, in each year of
    [years] (e.g. the reference period of a publication applied to the years it compares)."""
    out: dict[str, dict] = {}
    values = obs.set_index("obs_id")
    for label, f in scenario.data.get("fixed_supply", {}).items():
        a, b = f["years"]
        span = (years >= a) & (years <= b)
        if not span.any() or a < years.min() or b > years.max():
            raise ScenarioError(_file(scenario), f"fixed_supply.{label}.years",
                                f"[{a}, {b}] reaches outside the model's years {years.min()}-{years.max()}")
        if "per_year" in f:
            level = float(f["per_year"])
        elif "total" in f:
            level = float(f["total"]) / span.sum()
        else:
            row = values.loc[f["from_obs"]]
            v = row["value"] if pd.notna(row["value"]) else None
            if v is None:
                raise ScenarioError(_file(scenario), f"fixed_supply.{label}.from_obs",
                                    f"row {f['from_obs']} has no single value (a range or bound)")
            n = int(row["year_end"]) - int(row["year"]) + 1
            level = float(v) / n
        entry = out.setdefault(f["source"], {"values": np.zeros(len(years)), "mask": np.zeros(len(years))})
        entry["values"][span] = level
        entry["mask"][span] = 1.0
    return out


# ---- a series' or origin's own bias and noise -------------------------------------------------

def error_override_label(table: str, name: str) -> str:
    """The model's name of one override (coordinate ``bias_override`` / ``noise_override``)."""
    return f"{ERROR_OVERRIDE_KEYS[table]}:{name}"


def error_override_spec(scenario: Scenario, label: str, part: str) -> dict:
    """The prior table of one override's ``part`` (bias or noise), by its label."""
    col, name = label.split(":", 1)
    table = next(t for t, c in ERROR_OVERRIDE_KEYS.items() if c == col)
    return as_prior(scenario.get("evidence")[table][name][part])


def has_error_overrides(scenario: Scenario) -> bool:
    ev = scenario.get("evidence")
    return any(ev.get(t) for t in ERROR_OVERRIDE_KEYS)


def error_overrides(rows: pd.DataFrame, scenario: Scenario, excluded: dict[str, str] | None = None,
                    series_of: dict | None = None, origin_of: dict | None = None) -> pd.DataFrame:
    """``rows`` with columns ``bias_override`` and ``noise_override``: per count row, the label of
    the override (``series:<name>`` or ``origin:<name>``) whose bias / noise replaces its class's,
    or "" (the class's). A series override takes precedence over an origin override of the same
    part. Share rows keep ``evidence.shares.bias``. Unchanged (no columns) when the scenario sets
    no override, so that the baseline's evidence and model stay exactly as they were.

    Refused (ScenarioError): an override that matches no count row of the likelihood (its rows
    all excluded, or share statements only), and a part that would change no row (a bias whose
    rows all carry none - unbiased bounds - or are taken by a series override; a noise whose rows
    are all bounds, whose sd is ``lower_bound_softness``)."""
    if not has_error_overrides(scenario) or rows.empty:
        return rows
    rows = rows.copy()
    count = (rows["likelihood"] == "count").to_numpy()
    bound = (rows["mode"] == "bound").to_numpy()
    carries = {"bias": count & (rows["biased"].astype(bool).to_numpy() | ~bound), "noise": count & ~bound}
    problems = []
    ev = scenario.get("evidence")
    assigned = {part: np.full(len(rows), "", dtype=object) for part in ERROR_PARTS}
    for table in ("series_overrides", "origin_overrides"):  # series first: it takes precedence
        col = ERROR_OVERRIDE_KEYS[table]
        for name, o in ev.get(table, {}).items():
            key = f"evidence.{table}.{name}"
            match = (rows[col].astype(str) == name).to_numpy()
            if not (match & count).any():
                why = _why_no_row(name, col, rows, match, excluded or {}, series_of, origin_of)
                problems.append((_file(scenario), key, f"matches no count row of the likelihood ({why}); "
                                 "an override must change at least one row"))
                continue
            for part in ERROR_PARTS:
                if part not in o:
                    continue
                free = match & carries[part] & (assigned[part] == "")
                if not free.any():
                    why = ("every one is taken by a series override of its " + part
                           if (match & carries[part]).any() else
                           "all are bounds without a class bias (evidence.rules.unbiased_bound_kinds)"
                           if part == "bias" else "all are bounds, whose sd is evidence.rules.lower_bound_softness")
                    problems.append((_file(scenario), f"{key}.{part}",
                                     f"changes no row: of the {int((match & count).sum())} count rows of "
                                     f"{col} {name!r}, {why}"))
                    continue
                assigned[part][free] = error_override_label(table, name)
    if problems:
        raise ScenarioError.of(problems)
    for part in ERROR_PARTS:
        rows[f"{part}_override"] = assigned[part]
    return rows


def _why_no_row(name, col, rows, match, excluded, series_of, origin_of) -> str:
    if match.any():
        return "its rows in the likelihood are share statements, which keep evidence.shares.bias"
    of = series_of if col == "series" else origin_of
    gone = [i for i in excluded if of is not None and of.get(i) == name]
    if gone:
        return f"its {len(gone)} rows are all excluded, e.g. {gone[0]}: {excluded[gone[0]]}"
    return "none of its rows enters"


def error_override_records(evidence, scenario: Scenario) -> list[dict]:
    """One record per override part in force (the fit's manifest): key, part, prior, the count rows
    that use it (obs_ids). [] when the scenario sets none."""
    rows = evidence.rows
    out = []
    for table in ERROR_OVERRIDE_KEYS:
        for name, o in scenario.get("evidence").get(table, {}).items():
            label = error_override_label(table, name)
            for part in ERROR_PARTS:
                if part in o and f"{part}_override" in rows:
                    ids = rows.loc[rows[f"{part}_override"] == label, "obs_id"].astype(str).tolist()
                    out.append({"key": f"evidence.{table}.{name}.{part}", "part": part,
                                "prior": as_prior(o[part]), "rows": ids, "note": o.get("note", "")})
    return out
