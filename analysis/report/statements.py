"""Every sentence of the report that states a result, generated from this run's outputs or from the
benchmark result files it cites (benchmarks/results/*.json, with their date).

- ``headline_sentence``: the plain-language headline from the period table (gap_by_period.csv);
- ``run_status``: whether the run is a quick run and/or failed the diagnostics gate (the marker
  put on the page title, the headline, every chart and the manifest);
- ``calibration_statement``: what the simulation-based calibration benchmark measured.

No number is written here by hand: a test compares each sentence with the table or file it came from.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

# Which columns of gap_by_period.csv the headline reads. UNEXPLAINED: the per-draw sum of
# max(gap_t, 0) over the period's years (organs not explained, never negative); SIGNED: the signed
# sum of the yearly gap. The headline uses the first whose columns are all present.
UNEXPLAINED = {"median": "unexplained_median", "q05": "unexplained_q05", "q95": "unexplained_q95",
               "p": "p_any_year_positive"}
SIGNED = {"median": "gap_median", "q05": "gap_q05", "q95": "gap_q95", "p": "p_gap_positive"}
HEADLINE_COLUMNS = [UNEXPLAINED, SIGNED]


def columns_for(table: pd.DataFrame) -> dict[str, str]:
    """The first mapping of HEADLINE_COLUMNS whose columns ``table`` has."""
    for mapping in HEADLINE_COLUMNS:
        if set(mapping.values()) <= set(table.columns):
            return mapping
    raise KeyError(f"gap_by_period has none of the headline column sets {HEADLINE_COLUMNS}")


def round_sig(v: float, digits: int = 3) -> int:
    """``v`` rounded to ``digits`` significant figures (an integer: organs are counted)."""
    if v == 0 or not math.isfinite(v):
        return 0
    return int(round(v, -int(math.floor(math.log10(abs(v)))) + digits - 1))


def count(v: float) -> str:
    """An organ count in a sentence: 3 significant figures, thousands separators, a true minus."""
    return f"{round_sig(v):,}".replace("-", "−")


def period_label(period: str) -> str:
    a, _, b = str(period).partition("-")
    return f"{a}–{b}" if b else str(period)


def headline_sentence(table: pd.DataFrame, scenario: str, period: str | None = None) -> str:
    """One neutral sentence for one period (default: the last) of the period table."""
    c = columns_for(table)
    row = table.iloc[-1] if period is None else table[table["period"] == period].iloc[0]
    years = period_label(row["period"])
    med, lo, hi, p = (float(row[c[k]]) for k in ("median", "q05", "q95", "p"))
    interval = f"90% interval {count(lo)} to {count(hi)}"
    if c is UNEXPLAINED:
        return (f"Under scenario {scenario}, an estimated {count(med)} organs transplanted in {years} are not "
                f"explained by the declared sources ({interval}); probability {p:.2f} that the volume exceeded "
                "the declared supply in at least one year of the period.")
    if med >= 0:
        return (f"Under scenario {scenario}, an estimated {count(med)} organs transplanted in {years} are not "
                f"explained by the declared sources ({interval}); probability {p:.2f} that the "
                "period's total gap is positive.")
    return (f"Under scenario {scenario}, the declared sources could have supplied an estimated "
            f"{count(-med)} more organs than were transplanted in {years} (gap {interval}); probability "
            f"{p:.2f} that the period's total gap is positive.")


# ---- quick and failed-gate runs --------------------------------------------------------------


@dataclass(frozen=True)
class RunStatus:
    quick: bool
    gate_passed: bool

    @property
    def marked(self) -> bool:
        return self.quick or not self.gate_passed

    @property
    def label(self) -> str:
        """Short marker for titles and charts ('' for a full run that passed the gate)."""
        parts = (["QUICK RUN"] if self.quick else []) + ([] if self.gate_passed else ["DIAGNOSTICS GATE FAILED"])
        return " · ".join(parts)

    @property
    def sentence(self) -> str:
        out = []
        if self.quick:
            out.append("Quick run: fewer posterior draws than the scenario's sampler settings, for checking "
                       "the pipeline; these numbers are not for citation.")
        if not self.gate_passed:
            out.append("The diagnostics gate failed: the sampler may not have explored the posterior well; "
                       "treat these numbers as provisional.")
        return " ".join(out)


def run_status(settings: dict, full_sampler: dict, gate_passed: bool) -> RunStatus:
    """Quick = fewer chains, tuning steps or draws than the scenario's own sampler settings."""
    quick = any(int(settings.get(k, 0)) < int(full_sampler.get(k, 0)) for k in ("chains", "tune", "draws"))
    return RunStatus(quick=quick, gate_passed=bool(gate_passed))


# ---- benchmark results -------------------------------------------------------------------------


def result_date(path: Path) -> str:
    """The date a benchmark result file was made: its own ``date``/``created_utc`` field, else the
    date of the commit that last changed it, else its modification time (UTC, YYYY-MM-DD)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("date", "created_utc", "created"):
        if isinstance(data.get(key), str) and len(data[key]) >= 10:
            return data[key][:10]
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs", "--", Path(path).name], cwd=Path(path).parent,
                             capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    if len(out) == 10:
        return out
    return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).strftime("%Y-%m-%d")


def pct(v: float) -> str:
    return f"{100 * float(v):.1f}%"


def calibration_statement(sbc_file: Path | None, href: str = "benchmarks/sbc.json") -> str | None:
    """What benchmarks/results/sbc.json measured, in one paragraph, citing the file and its date
    (None when there is no such file)."""
    if sbc_file is None or not Path(sbc_file).is_file():
        return None
    r = json.loads(Path(sbc_file).read_text(encoding="utf-8"))
    date = result_date(sbc_file)
    text = (f"Calibration on simulated data ({href}, {date}): on {r['datasets']} datasets simulated from "
            f"scenario {r['scenario']} ({r['dataset_years']} dataset-years), the 90% intervals of the yearly gap "
            f"covered the true value in {pct(r['coverage_90'])} of dataset-years and the 50% intervals in "
            f"{pct(r['coverage_50'])}")
    if "rank_uniformity_p" in r:
        text += (f"; a chi-square test of uniform ranks of the truth among the posterior draws gave "
                 f"p = {r['rank_uniformity_p']:g}")
    return text + "."
