"""Before a fit: do the data cover what the scenario asks the model to estimate?

Checked on the observations a fit would use (before any model is built), reported like every
scenario problem (``ScenarioError``: file, key, problem; exit 2):

- ``years.start`` is not after the last year with a single-year observation (``years.end`` =
  "latest") or after ``years.end``; every period starts inside the model's years;
- the volume file has at least one row in the model's years;
- when executed prisoners are a declared source for some model year, executions have a row in
  those years; when voluntary donation starts inside the model's years, donors have a row from
  ``declared.donation_start`` on.
"""

from __future__ import annotations

import pandas as pd

from analysis.scenarios import Scenario, ScenarioError


def _end(obs: pd.DataFrame, scenario: Scenario) -> int | None:
    end = scenario.get("years.end")
    if end != "latest":
        return int(end)
    single = obs[obs["year"] == obs["year_end"]]
    return int(single["year"].max()) if len(single) else None


def _rows(obs, family: str, lo: int, hi: int, unit: str | None = None) -> int:
    sel = (obs["family"] == family) & (obs["year_end"] >= lo) & (obs["year"] <= hi)
    if unit:
        sel &= obs["unit"] == unit
    return int(sel.sum())


def coverage_problems(obs: pd.DataFrame, scenario: Scenario) -> list[tuple[str, str]]:
    start, end = int(scenario.get("years.start")), _end(obs, scenario)
    if end is None:
        return [("years.end", "no single-year observation, so \"latest\" names no year")]
    if start > end:
        what = "the last year with a single-year observation" if scenario.get("years.end") == "latest" else "years.end"
        return [("years.start", f"years.start = {start} is after {what} ({end})")]
    out = []
    for i, (a, _b) in enumerate(scenario.get("years.periods")):
        if a != "latest" and a > end:
            out.append((f"years.periods[{i}]", f"period starts in {a}, after the last model year {end}"))
    if not _rows(obs, "volumes", start, end):
        out.append(("years", f"no row of volumes.csv in the model's years {start}-{end}"))
    until = int(scenario.get("declared.prisoner_source_until"))
    if until >= start and not _rows(obs, "executions", start, min(until, end)):
        out.append(("declared.prisoner_source_until",
                    f"executed prisoners are a declared source in {start}-{min(until, end)}, but "
                    "executions.csv has no row in those years"))
    donation = int(scenario.get("declared.donation_start"))
    if donation <= end and not _rows(obs, "donation", max(donation, start), end, unit="donors"):
        out.append(("declared.donation_start",
                    f"voluntary donation starts in {donation}, but donation.csv has no donors row in "
                    f"{max(donation, start)}-{end}"))
    return out


def check_coverage(obs: pd.DataFrame, scenario: Scenario) -> None:
    """Raise ScenarioError listing every coverage problem (file = the scenario's own file)."""
    problems = coverage_problems(obs, scenario)
    if problems:
        file = scenario.files[0].name if scenario.files else scenario.name
        raise ScenarioError.of([(file, key, f"{problem} (data coverage)") for key, problem in problems])
