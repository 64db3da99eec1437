"""data/raw -> data/derived: one tidy observations table and a manifest, written atomically.

One generation at a time: observations.csv is renamed into place first and manifest.json last;
the manifest records the sha256 of the raw files and of observations.csv. A reader trusts the
pair only when both match (:func:`stale`), so a run killed between the two renames leaves a pair
that is detected as stale and re-ingested, never used. Leftover temp files of dead processes
are removed at the next ingest. Nothing is written when the raw data have any problem.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.data import rules
from analysis.data.check import RawData, validate
from analysis.io import (
    atomic_write_json,
    csv_text,
    is_text_column,
    remove_leftovers,
    sha256_file,
    sha256_text,
    unneutralise,
)

OBSERVATION_COLUMNS = [
    "family", "obs_id", "series", "year", "year_end", "value", "low", "high", "qualifier", "unit",
    "kind", "organ", "donor_type", "denominator", "source_id", "source_kind", "source_affiliation",
    "origin", "origin_kind", "flag", "locator", "quote", "quote_form", "notes",
]


def tidy_observations(raw: RawData) -> pd.DataFrame:
    """One long table over the four families, with source kind/affiliation and origin kind joined in."""
    frames = []
    for family, frame in raw.families.items():
        f = frame.reset_index(drop=True).copy()
        f.insert(0, "family", family)
        frames.append(f)
    obs = pd.concat(frames, ignore_index=True)
    obs["year_end"] = obs["year_end"].fillna(obs["year"]).astype("Int64")
    src = raw.sources.set_index("source_id")
    obs["source_kind"] = obs["source_id"].map(src["kind"])
    obs["source_affiliation"] = obs["source_id"].map(src["affiliation"])
    obs["origin_kind"] = obs["origin"].map(raw.origins.set_index("id")["kind"])
    obs = obs.sort_values(["family", "year", "series", "obs_id"], kind="mergesort")
    return obs[OBSERVATION_COLUMNS].reset_index(drop=True)


def data_hash(file_hashes: dict[str, str]) -> str:
    """One hash for the whole raw directory (names and contents)."""
    return sha256_text("\n".join(f"{k}:{v}" for k, v in sorted(file_hashes.items())))


def ingest(data_dir: Path, out_dir: Path) -> dict:
    """Validate data_dir, then write observations.csv + manifest.json into out_dir.

    Raises DataError (and leaves out_dir untouched) when the raw data has any problem.
    """
    raw = validate(data_dir)
    obs = tidy_observations(raw)
    hashes = {p.name: sha256_file(p) for p in raw.files()}
    manifest = {
        "tgap_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_dir": str(Path(data_dir)),
        "raw_files_sha256": hashes,
        "data_hash": data_hash(hashes),
        "rows_per_family": {f: int(n) for f, n in obs["family"].value_counts().sort_index().items()},
        "sources": int(len(raw.sources)),
        "observations": int(len(obs)),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    text = csv_text(obs)
    manifest["observations_sha256"] = sha256_text(text)
    write_generation(out_dir, text, manifest)
    return manifest


def write_generation(out_dir: Path, observations_text: str, manifest: dict) -> None:
    """observations.csv first, manifest.json (with the observations' hash) last."""
    from analysis.io import atomic_write_text

    atomic_write_text(out_dir / "observations.csv", observations_text)
    atomic_write_json(out_dir / "manifest.json", manifest)


def read_observations(derived_dir: Path) -> pd.DataFrame:
    """Read observations.csv as written by ``ingest`` (text cells restored from their
    spreadsheet-safe form)."""
    obs = pd.read_csv(Path(derived_dir) / "observations.csv", keep_default_na=False,
                      na_values={c: [""] for c in ["value", "low", "high", "year_end"]})
    for col in obs.columns:
        if is_text_column(obs[col]):
            obs[col] = obs[col].map(unneutralise)
    for col in ["value", "low", "high"]:
        obs[col] = pd.to_numeric(obs[col], errors="coerce")
    return obs




def read_manifest(derived_dir: Path) -> dict:
    """The manifest, or {} when it is missing or unreadable (then the derived data are stale)."""
    path = Path(derived_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def stale_reason(data_dir: Path, derived_dir: Path) -> str | None:
    """Why the derived data cannot be used for data_dir (None when they can): missing files, raw
    files changed, or observations.csv not the one its manifest describes (a mixed generation)."""
    derived_dir = Path(derived_dir)
    manifest = read_manifest(derived_dir)
    obs_path = derived_dir / "observations.csv"
    if not manifest or not obs_path.is_file():
        return "no ingested data"
    names = [rules.SOURCES_FILE, rules.ORIGINS_FILE] + [f for f, _ in rules.FAMILIES.values()]
    current = {}
    for n in names:
        p = Path(data_dir) / n
        if p.is_file():
            current[n] = sha256_file(p)
    if current != manifest.get("raw_files_sha256"):
        return "raw files changed"
    if sha256_file(obs_path) != manifest.get("observations_sha256"):
        return "observations.csv does not match manifest.json"
    return None


def stale(data_dir: Path, derived_dir: Path) -> bool:
    """True when derived outputs are missing, were made from other raw files, or do not match
    their manifest."""
    return stale_reason(data_dir, derived_dir) is not None
