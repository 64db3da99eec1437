"""The vocabulary of data/raw/: file names, columns and allowed values (see docs/data.md)."""

from __future__ import annotations

SOURCES_FILE = "sources.csv"
SOURCE_COLUMNS = [
    "source_id", "title", "author", "published", "url", "archive_url", "kind", "affiliation", "notes",
]
SOURCE_REQUIRED = ["source_id", "title", "author", "published", "url", "kind"]
SOURCE_KINDS = [
    "official_statement", "official_registry", "international_registry",
    "ngo_report", "peer_reviewed", "news", "dataset", "tertiary",
]

# origins.csv: who produced a figure (the source is only where it was read; see docs/data.md)
ORIGINS_FILE = "origins.csv"
ORIGIN_COLUMNS = ["id", "name", "kind", "affiliation", "notes"]
ORIGIN_REQUIRED = ["id", "name", "kind"]
ORIGIN_KINDS = ["official", "registry", "ngo", "academic", "advocacy", "media", "international"]

OBS_COLUMNS = [
    "obs_id", "series", "year", "year_end", "value", "low", "high", "qualifier", "unit", "kind",
    "organ", "donor_type", "denominator", "source_id", "origin", "locator", "quote", "quote_form",
    "flag", "notes",
]
OBS_REQUIRED = ["obs_id", "series", "year", "unit", "kind", "source_id", "origin", "locator", "quote"]
NUMERIC_COLUMNS = ["value", "low", "high"]
NATURAL_KEY = ["source_id", "series", "year", "year_end", "unit", "kind", "organ", "donor_type"]

# family -> (file name, units allowed in that file)
FAMILIES: dict[str, tuple[str, list[str]]] = {
    "volumes": ("volumes.csv", ["transplants", "recipients", "organs_transplanted", "organs"]),
    "executions": ("executions.csv", ["executions"]),
    "donation": ("donation.csv", ["donors", "organs", "organs_transplanted", "transplants"]),
    "living_and_share": ("living_and_share.csv", ["transplants", "donors", "share"]),
}

# transplants = operations; recipients = patients transplanted; organs = organs donated or procured;
# organs_transplanted = organs transplanted (what each measures in the model: analysis/model/units.py)
UNITS = ["transplants", "recipients", "organs_transplanted", "organs", "donors", "executions", "share"]
KINDS = ["reported", "estimate", "capacity", "lower_bound", "upper_bound", "cumulative"]
QUALIFIERS = ["exact", "approx", "over", "under"]
ORGANS = ["all", "kidney", "liver", "heart", "lung", "kidney_liver", "other"]
DONOR_TYPES = ["all", "deceased", "living"]
QUOTE_FORMS = ["digits", "chinese", "words"]

# defaults for blank optional categorical cells
DEFAULTS = {"qualifier": "exact", "organ": "all", "donor_type": "all", "quote_form": "digits"}

YEAR_MIN = 1980
YEAR_MAX = 2030

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
SOURCE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ORIGIN_ID_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
