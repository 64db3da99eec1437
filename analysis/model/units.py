"""What each count unit measures: one table from (file, unit) to the model quantity it informs.

A row whose (family, unit) is not in ``UNIT_TABLE`` is excluded with a reason; no unit is ever
silently equated with another. Conversions between counts (operations, organs, recipients,
living donors) are stated here with their rationale; docs/data.md repeats the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

INF = 1e3  # as in evidence.INF: stands for infinity on the log scale

# Readings: "as_is" = the figure measures the model quantity itself; "organs_donated" = organs
# donated or procured, which are at least the organs transplanted from them (some procured organs
# are discarded), so the scenario rule evidence.rules.organs_donated_as says how they enter.
AS_IS, DONATED = "as_is", "organs_donated"
ONE_OP = ("1 transplant operation ~ 1 organ transplanted: combined transplants (kidney-pancreas, "
          "heart-lung, liver-kidney) are a small fraction of all transplants, so the count of "
          "operations and of organs differ by a few per cent at most")


@dataclass(frozen=True)
class UnitMeaning:
    measures: str   # what the number counts, in words
    target: str     # model evidence target (volume, donors, executions, living) or "" when per donor_type
    quantity: str   # latent quantity it informs ("" = set by donor_type, see below)
    reading: str    # AS_IS | DONATED
    rationale: str


# donor_type -> (target, quantity) for counts of transplants in volumes.csv
VOLUME_BY_DONOR = {"all": ("volume", "volume"), "deceased": ("volume", "deceased_volume"),
                   "living": ("living", "living")}

UNIT_TABLE: dict[tuple[str, str], UnitMeaning] = {
    ("volumes", "transplants"): UnitMeaning(
        "transplant operations", "", "", AS_IS, ONE_OP),
    ("volumes", "recipients"): UnitMeaning(
        "patients transplanted", "", "", AS_IS,
        "1 recipient ~ 1 operation in a year (re-transplants within a year are rare); " + ONE_OP),
    ("volumes", "organs_transplanted"): UnitMeaning(
        "organs transplanted", "", "", AS_IS, "the model's volume counts organs transplanted"),
    ("donation", "organs_transplanted"): UnitMeaning(
        "organs transplanted from voluntary deceased donors", "donors", "donor_organs_reported", AS_IS,
        "organs transplanted from the donation system = reported donors x organs per donor"),
    ("donation", "transplants"): UnitMeaning(
        "transplant operations with organs from voluntary deceased donors", "donors",
        "donor_organs_reported", AS_IS, ONE_OP),
    ("donation", "organs"): UnitMeaning(
        "organs donated (procured) by voluntary deceased donors", "donors", "donor_organs_reported",
        DONATED, "organs donated >= organs transplanted from them (procured organs can be discarded)"),
    ("donation", "donors"): UnitMeaning(
        "voluntary deceased donors (donation cases)", "donors", "donors_reported", AS_IS,
        "one donation case = one donor"),
    ("executions", "executions"): UnitMeaning(
        "executions", "executions", "executions", AS_IS, "counted as stated"),
    ("living_and_share", "transplants"): UnitMeaning(
        "living-donor transplant operations", "living", "living", AS_IS, ONE_OP),
    ("living_and_share", "donors"): UnitMeaning(
        "living donors", "living", "living", AS_IS,
        "a living donor gives one kidney or one liver lobe: 1 living donor = 1 living-donor transplant"),
}
# Not in the table on purpose: ("volumes", "organs") = organs procured (e.g. from executed
# prisoners, including corneas): neither the volume nor a bound of it.


def measured_quantity(family: str, unit: str, donor_type: str) -> tuple[str | None, str | None, str, str]:
    """(target, quantity, reading, reason-if-unmapped) for a count row."""
    meaning = UNIT_TABLE.get((family, unit))
    if meaning is None:
        return None, None, "", f"unit {unit!r} in {family} has no model quantity (analysis/model/units.py)"
    if family == "volumes":
        target, quantity = VOLUME_BY_DONOR[donor_type]
        return target, quantity, meaning.reading, ""
    if family == "donation" and donor_type == "living":
        return None, None, "", "living donors in the donation file"
    if family == "living_and_share" and donor_type != "living":
        return None, None, "", f"{unit} of donor_type={donor_type} in living_and_share: no model quantity"
    return meaning.target, meaning.quantity, meaning.reading, ""


def donated_as_bound(row, transform) -> tuple[str, float, float, float] | None:
    """Organs donated read as an upper bound of organs transplanted: (mode, lo, hi, extra_sd).

    None when the figure only bounds organs donated from below ("more than N", a recorded
    minimum, or a partial-year count of a longer period): organs transplanted <= organs donated
    and organs donated >= N together say nothing about organs transplanted.
    """
    partial = "partial_year" in str(row.flag).split(";")
    if row.kind == "lower_bound" or partial:
        return None
    if pd.notna(row.high):
        x = row.high
    elif pd.notna(row.value) and row.qualifier != "over":
        x = row.value
    else:
        return None
    return "bound", -INF, transform(x), 0.0
