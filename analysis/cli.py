"""The `tgap` command line: parse, call one function, print. Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="tgap: organs not explained by declared sources, with intervals.")

DATA_DIR = Path("data/raw")
DERIVED_DIR = Path("data/derived")


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


@app.command()
def check(
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Directory of raw CSV files."),
    year_min: int = typer.Option(1980, help="Earliest allowed year."),
    year_max: int = typer.Option(2030, help="Latest allowed year."),
) -> None:
    """Validate data/raw: print every problem as FILE:ROW:COLUMN: rule: found; exit 1 if any."""
    from analysis.data.check import load_raw

    raw = load_raw(data_dir, year_min=year_min, year_max=year_max)
    for problem in raw.problems:
        typer.echo(str(problem))
    if raw.problems:
        _err(f"{len(raw.problems)} problem(s) in {data_dir}")
        raise typer.Exit(1)
    n = sum(len(f) for f in raw.families.values())
    typer.echo(f"ok: {n} observations in {len(raw.families)} families, {len(raw.sources)} sources")


@app.command()
def ingest(
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir"),
    out: Path = typer.Option(DERIVED_DIR, "--out", help="Output directory."),
) -> None:
    """Validate, then write observations.csv and manifest.json (atomically) to --out."""
    from analysis.data.ingest import ingest as run_ingest
    from analysis.data.problems import DataError

    try:
        manifest = run_ingest(data_dir, out)
    except DataError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        _err(f"{len(exc.problems)} problem(s) in {data_dir}; {out} left unchanged")
        raise typer.Exit(1) from None
    typer.echo(f"wrote {out}/observations.csv ({manifest['observations']} rows) and manifest.json")


SHARED_GODT = Path(__file__).resolve().parents[2] / "shared" / "data" / "godt"


@app.command()
def forensics(
    godt: list[Path] = typer.Option(None, "--godt", help="GODT export (repeatable; later files win). "
                                    "Default: the exports in ../shared/data/godt when present."),
    derived: Path = typer.Option(DERIVED_DIR, "--derived", help="Directory with observations.csv."),
    out: Path = typer.Option(Path("reports/forensics"), "--out"),
    min_run: int = typer.Option(None, "--min-run", help="Minimum run of years for benchmark countries."),
    charts: bool = typer.Option(True, "--charts/--no-charts"),
) -> None:
    """Formula fits, ratios and consistency checks of official series; multi-country benchmark."""
    import pandas as pd

    from analysis.data.ingest import read_observations
    from analysis.forensics.run import run_forensics, summary

    paths = list(godt or sorted(SHARED_GODT.glob("*.csv")))
    for p in paths:
        if not p.exists():
            _err(f"{p}: GODT export not found")
            raise typer.Exit(1)
    obs_file = derived / "observations.csv"
    observations = read_observations(derived) if obs_file.exists() else None
    typer.echo(f"observations: {obs_file if observations is not None else 'none (run tgap ingest)'}; "
               f"GODT exports: {', '.join(p.name for p in paths) or 'none'}")
    result = run_forensics(observations, paths, out, min_run=min_run, charts=charts)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        typer.echo(summary(result).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"wrote {out}/forensics.csv ({len(result)} rows)")


def main() -> None:  # pragma: no cover
    app(prog_name="tgap")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
