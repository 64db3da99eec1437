"""One formatting rule and one data dictionary for every CSV of a report.

``COLUMNS`` maps column-name patterns to (description, unit, decimals). ``round_for_csv`` applies
the decimals (counts of organs, people, rows: integers; probabilities and shares: 4 decimals;
diagnostics as stated), and ``write_datapackage`` writes ``datapackage.json``, a Frictionless Data
Package (Table Schema, https://specs.frictionlessdata.io/) describing every column of every CSV
with its unit and precision.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

_Q = r"(mean|median|q05|q25|q75|q95)"
_WHAT = {
    "volume": "transplant volume (organs transplanted)", "supply": "declared supply (all declared sources)",
    "gap": "gap = volume − declared supply (organs not explained by declared sources; negative = surplus)",
    "unexplained": "organs not explained by declared sources, sum over years of max(gap, 0)",
    "prisoners": "organs from executed prisoners while a declared source",
    "prisoner_organs": "organs from executed prisoners while a declared source",
    "donors": "organs from voluntary deceased donors", "donor_organs": "organs from voluntary deceased donors",
    "living": "living-donor transplants", "stack_prisoners": "running sum: prisoners",
    "stack_donors": "running sum: prisoners + donors", "cum_gap": "gap accumulated from the period's first year",
    "unused_capacity": "declared capacity left unused, sum over years of max(−gap, 0)",
    "capacity_gap": "organs not explained even at the declared sources' maximum, max(0, volume − maximum supply)",
    "max_declared_supply": "maximum declared supply (executions × ceiling while declared + donors × organs "
                           "per donor + living)",
    "executions": "executions (persons)",
    "required_at_ceiling": "executions required to supply the volume not covered by donors and living donors, "
                           "at the ceiling on organs per executed person",
    "required_at_yield": "executions required, at the posterior organs per executed person",
}
_QWORD = {"mean": "posterior mean", "median": "posterior median", "q05": "posterior 5% quantile",
          "q25": "posterior 25% quantile", "q75": "posterior 75% quantile", "q95": "posterior 95% quantile"}

# (pattern, description, unit, decimals); decimals None = text / as is. First match wins.
COLUMNS: list[tuple[str, str, str | None, int | None]] = [
    (rf"^({'|'.join(_WHAT)})_{_Q}$", "{q} of the {what}", "organs", 0),
    (r"^p_gap_positive$", "posterior probability that the gap is positive", "probability", 4),
    (r"^p_cum_gap_positive$", "posterior probability that the accumulated gap is positive", "probability", 4),
    (r"^p_any_year_positive$", "posterior probability that some organs are not explained", "probability", 4),
    (r"^p_", "posterior probability", "probability", 4),
    (r"^share", "share", "fraction 0-1", 4),
    (rf"^(model_share|max_possible_share)_{_Q}$", "share of the numerator in the denominator implied by the "
     "counts (model) / the largest the executions could supply at the ceiling", "fraction 0-1", 4),
    (r"^stated_share$", "share as stated by the source", "fraction 0-1", 4),
    (rf"^(implied_organs_per_executed|organs_per_executed)_{_Q}$", "organs per executed person: implied by "
     "the statement (stated share × denominator / executions) / the model's yield c_t", "organs per person", 3),
    (r"^(published_min|published_max)$", "lowest / highest published execution estimate that entered the model",
     "persons", 0),
    (r"^recorded_minimum$", "highest recorded minimum (confirmed executions) that entered the model", "persons", 0),
    (r"^prisoners_declared$", "yes/no: executed prisoners a declared source in this year", None, None),
    (r"^(claims|relays_collapsed)$", "count of likelihood rows (claims) / of rows collapsed as relays", "rows", 0),
    (r"^(origin|kind)$", "origin id (producer of the figures) / its kind", None, None),
    (r"^(year|year_end)$", "calendar year", "year", 0),
    (r"^period$", "period of years, first-last", None, None),
    (r"^(rows|rows_in_model|observations|in_model|figures|inside_90)$", "count of rows", "rows", 0),
    (r"^(ess_bulk|ess_tail)$", "effective sample size (ArviZ)", "draws", 0),
    (r"^r_hat$", "rank-normalised split R-hat (ArviZ)", "ratio", 4),
    (r"^(mean|sd|mcse_mean)$", "posterior mean / sd / Monte Carlo standard error of the quantity",
     "unit of the quantity", 6),
    (r"^(observed_lo|observed_hi)$", "published figure (bounds; blank = open end)", "unit of the figure", 6),
    (r"^pred_(q05|median|q95)$", "posterior predictive quantile of the published figure", "unit of the figure", 6),
    (r"^value$", "published figure", "unit of the figure", None),
    (r"^(gated|passes|differs|used|cumulative|inside)$", "yes/no", None, None),
]


def rule(col: str) -> tuple[str, str | None, int | None]:
    for pat, desc, unit, dec in COLUMNS:
        m = re.match(pat, col)
        if m:
            if "{q}" in desc:
                what, q = m.group(1), m.group(2)
                desc = desc.format(q=_QWORD[q], what=_WHAT[what])
            return desc, unit, dec
    return col.replace("_", " "), None, None


def round_for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """Round every float column by its rule; integer-rule columns become integers (blank if missing)."""
    out = frame.copy()
    for col in out.columns:
        _, _, dec = rule(col)
        if out[col].dtype.kind == "f" and dec is not None:
            out[col] = out[col].round(dec)
            if dec == 0:
                out[col] = out[col].astype("Int64")
    return out


def _type(series: pd.Series) -> str:
    k = series.dtype.kind
    return {"i": "integer", "u": "integer", "f": "number", "b": "boolean"}.get(k, "string")


def schema(frame: pd.DataFrame) -> dict:
    fields = []
    for col in frame.columns:
        desc, unit, dec = rule(col)
        f = {"name": col, "type": "integer" if dec == 0 and _type(frame[col]) == "number" else _type(frame[col]),
             "description": desc}
        if unit:
            f["unit"] = unit
        if dec:
            f["decimals"] = dec
        fields.append(f)
    return {"fields": fields}


def write_datapackage(folder: Path, scenario: str, extra: dict[str, Path] | None = None) -> Path:
    """datapackage.json describing every CSV under ``folder`` (paths relative to it) and under each
    ``extra`` directory (written as ``<prefix>/<file>``: outputs that live beside the staged files)."""
    folder = Path(folder)
    resources = []
    found = [(csv, csv.relative_to(folder).as_posix()) for csv in sorted(folder.rglob("*.csv"))]
    for prefix, d in (extra or {}).items():
        found += [(csv, f"{prefix}/{csv.relative_to(d).as_posix()}") for csv in sorted(Path(d).rglob("*.csv"))]
    for csv, rel in found:
        try:
            frame = pd.read_csv(csv, nrows=200)
        except pd.errors.EmptyDataError:  # an empty output (e.g. no GODT benchmark) has no columns
            frame = pd.DataFrame()
        resources.append({"name": re.sub(r"[^a-z0-9._-]", "-", rel.lower().removesuffix(".csv")), "path": rel,
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": schema(frame)})
    pkg = {"name": f"tgap-report-{scenario}".lower().replace("_", "-"), "title": f"tgap report, scenario {scenario}",
           "profile": "tabular-data-package", "resources": resources}
    path = folder / "datapackage.json"
    path.write_text(json.dumps(pkg, indent=2) + "\n", encoding="utf-8")
    return path
