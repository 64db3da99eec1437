"""The forensics section of the HTML report: read what ``run_forensics`` wrote (docs/forensics.md).

The section never fails the report: when the forensic outputs or the GODT exports are missing it
says so, in words, and shows what there is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

CHARTS = {
    "forensics_fits.png": "Each target series (annual, cumulative) with every fitted curve.",
    "forensics_benchmark.png": "Distribution of log10(1 - R²) over GODT countries; the target series marked.",
    "forensics_ratios.png": "Per ratio: range over GODT countries by year (min-max, 5-95 %, median) and China's values.",
}
NOT_EVIDENCE = ("These checks report numbers and flags on the figures tgap holds; they do not decide "
                "whether any data were fabricated (docs/forensics.md explains each check and its limits).")


@dataclass
class ForensicsSection:
    available: bool
    out_dir: Path | None = None
    messages: list[str] = field(default_factory=list)
    godt_files: dict[str, str] = field(default_factory=dict)
    target_series: dict[str, str] = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    flag_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    flagged: pd.DataFrame = field(default_factory=pd.DataFrame)
    charts: list[tuple[Path, str]] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


def read_forensics_csv(path: Path) -> pd.DataFrame:
    from analysis.io import read_csv

    return read_csv(path, keep_default_na=False,
                    na_values={"value": [""], "benchmark_percentile": [""]},
                    dtype={"check": str, "series": str, "years": str, "statistic": str, "flag": str})


def load_section(out_dir: Path | None, godt_dir: Path | None = None, godt_found: bool | None = None,
                 note: str | None = None, max_flagged: int = 40) -> ForensicsSection:
    """Read ``out_dir`` (forensics.csv, forensics_manifest.json, charts) into a section.

    ``godt_found`` False (or a manifest without GODT files) adds the sentence saying that the GODT
    exports were absent (looked for in ``godt_dir``) and which checks therefore did not run.
    """
    from analysis.forensics.run import summary as fit_summary

    messages = [note] if note else []
    if out_dir is None or not (Path(out_dir) / "forensics.csv").exists():
        where = f" in {out_dir}" if out_dir is not None else ""
        messages.append(f"No forensic results{where}: run `tgap forensics` (or `tgap report`, which "
                        "runs it) to produce them.")
        return ForensicsSection(available=False, out_dir=out_dir, messages=messages)
    out_dir = Path(out_dir)
    result = read_forensics_csv(out_dir / "forensics.csv")
    man_path = out_dir / "forensics_manifest.json"
    manifest = json.loads(man_path.read_text(encoding="utf-8")) if man_path.exists() else {}
    godt_files = manifest.get("godt_files", {})
    if godt_found is False or not godt_files:
        where = f" in {godt_dir}" if godt_dir else ""
        messages.append(f"GODT exports not found{where}: the multi-country benchmark and the GODT ratio "
                        "checks were not run; only checks on the observations are shown.")
    flagged = result[result["flag"] != ""]
    flag_counts = (flagged.groupby(["check", "flag"]).size().rename("rows").reset_index()
                   if len(flagged) else pd.DataFrame(columns=["check", "flag", "rows"]))
    # the flags that say something about the figures (not the benchmark's window rule)
    notable = flagged[~flagged["flag"].str.startswith("windows=")]
    notable = notable[~notable["check"].isin(["source_disagreement"])]
    charts = [(out_dir / name, caption) for name, caption in CHARTS.items() if (out_dir / name).exists()]
    return ForensicsSection(
        available=True, out_dir=out_dir, messages=messages, godt_files=godt_files,
        target_series=manifest.get("target_series", {}), summary=fit_summary(result),
        flag_counts=flag_counts, flagged=notable.head(max_flagged), charts=charts, manifest=manifest)
