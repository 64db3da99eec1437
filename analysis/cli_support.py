"""What every `tgap` command shares: default paths, exit codes, and loading a scenario or the
observations with the command line's error handling (message on stderr, documented exit code).

Lives below the command modules (analysis/cli.py, report/cli_commands.py, sensitivity/cli.py) so
they all import it and never each other. Heavy imports stay inside the functions.
"""

from __future__ import annotations

from pathlib import Path

import typer

from analysis.runtime import PROJECT_ROOT
from analysis.scenarios import ScenarioError  # noqa: F401 - re-exported for the command modules

# Every default path is resolved from one place: the project root (analysis.runtime.find_project_root),
# so a command gives the same result from any working directory inside the checkout.
ROOT = PROJECT_ROOT or Path.cwd()
DATA_DIR = ROOT / "data" / "raw"
DERIVED_DIR = ROOT / "data" / "derived"
REPORTS_DIR = ROOT / "reports"
SHARED_GODT = next((d / "shared" / "data" / "godt" for d in ROOT.parents
                    if (d / "shared" / "data" / "godt").is_dir()), ROOT.parent / "shared" / "data" / "godt")

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
    same = Path(data_dir).resolve() == DATA_DIR.resolve()
    return DERIVED_DIR if same else data_dir.parent / f"derived-{data_dir.name}"


def require_data_dir(data_dir: Path) -> None:
    """Exit 1 with one message saying what to pass when the raw data directory is not there."""
    from analysis.data import rules

    if (Path(data_dir) / rules.SOURCES_FILE).is_file():
        return
    where = (f"the project root found is {PROJECT_ROOT}" if PROJECT_ROOT else
             f"no tgap project (a directory with pyproject.toml and data/raw) was found from {Path.cwd()} "
             "upward")
    err(f"data not found: {data_dir} has no {rules.SOURCES_FILE} ({where}); run from the project checkout, "
        "pass --data-dir DIR, or set TGAP_ROOT to the checkout")
    raise typer.Exit(EXIT_DATA)


def ensure_observations(data_dir: Path, derived: Path):
    """Ingest when ``derived`` is missing or older than ``data_dir``; return the observations
    (exit 1 listing every problem when the raw data are invalid)."""
    from analysis.data.ingest import ingest as run_ingest
    from analysis.data.ingest import read_observations, stale
    from analysis.data.problems import DataError

    require_data_dir(data_dir)
    if stale(data_dir, derived):
        try:
            run_ingest(data_dir, derived)
        except DataError as exc:
            for problem in exc.problems:
                typer.echo(str(problem))
            err(f"{len(exc.problems)} problem(s) in {data_dir}")
            raise typer.Exit(EXIT_DATA) from None
    return read_observations(derived)


def scenario_toml(sc) -> str:
    """The resolved scenario as a TOML document (tomli-w) headed by comments naming its hash and
    files; loading it back gives a scenario with the same hash."""
    import tomli_w

    head = (f"# scenario {sc.name}  hash {sc.hash}\n"
            f"# resolved from {' <- '.join(p.name for p in sc.files)} by `tgap scenarios show`\n")
    return head + tomli_w.dumps(sc.data, multiline_strings=True)


def period_lines(per, scenario: str) -> list[str]:
    """The period headline as printed by `tgap fit` and `tgap report`: organs not explained (sum
    over the years of max(gap, 0)) and the signed gap beside it."""
    out = [f"organs not explained by declared sources under scenario {scenario} "
           "(sum over the years of max(gap, 0); signed gap beside it):"]
    for r in per.itertuples():
        out.append(f"  {r.period}: median {r.unexplained_median:,.0f}  90% interval [{r.unexplained_q05:,.0f}, "
                   f"{r.unexplained_q95:,.0f}]; signed gap median {r.gap_median:,.0f} "
                   f"[{r.gap_q05:,.0f}, {r.gap_q95:,.0f}], P(signed gap > 0) = {r.p_gap_positive:.2f}")
    return out
