"""data/raw -> data/derived: one tidy observations table and a manifest, written atomically."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.data import rules
from analysis.data.check import RawData, validate
from analysis.io import commit_files, sha256_file, sha256_text, temp_path_beside

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
    obs_target, man_target = out_dir / "observations.csv", out_dir / "manifest.json"
    obs_tmp, man_tmp = temp_path_beside(obs_target), temp_path_beside(man_target)
    try:
        obs.to_csv(obs_tmp, index=False, lineterminator="\n")
        manifest["observations_sha256"] = sha256_file(obs_tmp)
        man_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        commit_files([(obs_tmp, obs_target), (man_tmp, man_target)])
    finally:
        obs_tmp.unlink(missing_ok=True)
        man_tmp.unlink(missing_ok=True)
    return manifest


def read_observations(derived_dir: Path) -> pd.DataFrame:
    """Read observations.csv as written by ``ingest``."""
    obs = pd.read_csv(Path(derived_dir) / "observations.csv", keep_default_na=False,
                      na_values={c: [""] for c in ["value", "low", "high", "year_end"]})
    for col in ["value", "low", "high"]:
        obs[col] = pd.to_numeric(obs[col], errors="coerce")
    return obs




def read_manifest(derived_dir: Path) -> dict:
    path = Path(derived_dir) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def stale(data_dir: Path, derived_dir: Path) -> bool:
    """True when derived outputs are missing or were made from other raw files."""
    manifest = read_manifest(derived_dir)
    if not manifest or not (Path(derived_dir) / "observations.csv").exists():
        return True
    names = [rules.SOURCES_FILE, rules.ORIGINS_FILE] + [f for f, _ in rules.FAMILIES.values()]
    current = {n: sha256_file(Path(data_dir) / n) for n in names if (Path(data_dir) / n).exists()}
    return current != manifest.get("raw_files_sha256")
