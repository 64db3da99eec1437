"""What every `tgap` command shares: default paths, exit codes, and loading a scenario or the
observations with the command line's error handling (message on stderr, documented exit code).

Lives below the command modules (analysis/cli.py, report/cli_commands.py, sensitivity/cli.py) so
they all import it and never each other. Heavy imports stay inside the functions.
"""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.scenarios import ScenarioError  # noqa: F401 - re-exported for the command modules

DATA_DIR = Path("data/raw")
DERIVED_DIR = Path("data/derived")
SHARED_GODT = Path(__file__).resolve().parents[2] / "shared" / "data" / "godt"

EXIT_DATA, EXIT_SCENARIO, EXIT_DIAGNOSTICS, EXIT_CACHE = 1, 2, 3, 4


def err(msg: str) -> None:
    typer.echo(msg, err=True)


def load_scenario_or_exit(ref: str):
    """The resolved scenario, or exit 2 with the validation message."""
    from analysis.scenarios import load_scenario

    try:
        return load_scenario(ref)
    except ScenarioError as exc:
        scenario_exit(exc)


def scenario_exit(exc) -> None:
    """Print every problem of a ScenarioError (one ``scenario error:`` line each) and exit 2."""
    for line in str(exc).splitlines():
        err(f"scenario error: {line}")
    raise typer.Exit(EXIT_SCENARIO) from None


def derived_dir_for(data_dir: Path, derived: Path | None = None) -> Path:
    """data/derived for the shipped data, else a sibling ``derived-<name>`` of the data directory."""
    if derived is not None:
        return derived
    return DERIVED_DIR if data_dir == DATA_DIR else data_dir.parent / f"derived-{data_dir.name}"


def ensure_observations(data_dir: Path, derived: Path):
    """Ingest when ``derived`` is missing or older than ``data_dir``; return the observations
    (exit 1 listing every problem when the raw data are invalid)."""
    from analysis.data.ingest import ingest as run_ingest
    from analysis.data.ingest import read_observations, stale
    from analysis.data.problems import DataError

    if stale(data_dir, derived):
        try:
            run_ingest(data_dir, derived)
        except DataError as exc:
            for problem in exc.problems:
                typer.echo(str(problem))
            err(f"{len(exc.problems)} problem(s) in {data_dir}")
            raise typer.Exit(EXIT_DATA) from None
    return read_observations(derived)
