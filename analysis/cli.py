"""The `tgap` command line: parse, call one function, print. Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from analysis.cli_support import (
    DATA_DIR,
    DERIVED_DIR,
    EXIT_CACHE,
    EXIT_DIAGNOSTICS,
    EXIT_SCENARIO,
    REPORTS_DIR,
    SHARED_GODT,
    derived_dir_for,
    ensure_observations,
    load_scenario_or_exit,
    period_lines,
    scenario_exit,
)
from analysis.cli_support import err as _err

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="tgap: organs not explained by declared sources, with intervals.")


def _print_version(value: bool) -> None:
    if value:
        from analysis import __version__

        typer.echo(f"tgap {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the tgap version and exit."),
) -> None:
    """tgap: organs not explained by declared sources, with intervals."""


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
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Directory of raw CSV files."),
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


scenarios_app = typer.Typer(help="List scenarios, or show one fully resolved.", invoke_without_command=True)
app.add_typer(scenarios_app, name="scenarios")

@scenarios_app.callback()
def scenarios_list(ctx: typer.Context) -> None:
    """List the shipped scenarios with their descriptions."""
    if ctx.invoked_subcommand is not None:
        return
    from analysis.scenarios import available, literature

    for name, path in {**available(), **literature()}.items():
        sc = load_scenario_or_exit(str(path))
        first = " ".join(sc.get("description").split())
        typer.echo(f"{name:28s} {first}")


@scenarios_app.command("show")
def scenarios_show(name: str = typer.Argument(..., help="Scenario name or TOML file.")) -> None:
    """Print the fully resolved scenario (after extends) as TOML, with its hash in a comment.

    The output is a complete scenario file: saved and passed to --scenario it gives the same hash."""
    from analysis.cli_support import scenario_toml

    sc = load_scenario_or_exit(name)
    typer.echo(scenario_toml(sc), nl=False)


@app.command()
def fit(
    scenario: str = typer.Option("baseline", "--scenario", "-s", help="Scenario name or TOML file."),
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Directory of raw CSV files."),
    derived: Path = typer.Option(None, "--derived", help="Where ingested data goes (default data/derived, "
                                 "or DATA_DIR/../derived-<name> for another --data-dir)."),
    seed: int = typer.Option(None, "--seed", help="Sampler seed (default: the scenario's sampler.seed)."),
    draws: int = typer.Option(None, "--draws", help="Posterior draws per chain (default: the scenario's)."),
    tune: int = typer.Option(None, "--tune", help="Tuning steps per chain (default: the scenario's)."),
    chains: int = typer.Option(None, "--chains", help="Number of chains (default: the scenario's)."),
    sampler: str = typer.Option(None, "--sampler", help="nutpie | nutpie-jax | pymc | numpyro (default: scenario)."),
    quick: bool = typer.Option(False, "--quick", help="Small draws for smoke runs."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 when the diagnostics gate fails."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Refit even if a cached fit exists."),
    out: Path = typer.Option(None, "--out", help="Output directory (default reports/<scenario>)."),
) -> None:
    """Fit the model for a scenario; write idata.nc, gap tables, evidence tables and manifest.json."""
    from analysis.runtime import configure

    configure()
    sc = load_scenario_or_exit(scenario)
    derived = derived_dir_for(data_dir, derived)
    obs = ensure_observations(data_dir, derived)
    from analysis.data.ingest import read_manifest
    from analysis.model.fit import CacheMismatch, SamplerSettings, run_fit
    from analysis.model.outputs import write_fit_outputs
    from analysis.scenarios import ScenarioError

    settings = SamplerSettings.from_scenario(sc, quick=quick, seed=seed, draws=draws, tune=tune,
                                             chains=chains, name=sampler)
    typer.echo(f"fitting scenario {sc.name} ({settings.name}, {settings.chains} chains x "
               f"{settings.tune} tune + {settings.draws} draws, seed {settings.seed})")
    try:
        result = run_fit(obs, sc, settings, use_cache=not no_cache, progressbar=sys.stderr.isatty())
    except CacheMismatch as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_CACHE) from None
    except ScenarioError as exc:  # the data do not cover what the scenario asks for
        scenario_exit(exc)
    out = out or REPORTS_DIR / sc.name
    manifest = write_fit_outputs(result, out, read_manifest(derived))
    _print_fit(manifest, out)
    if strict and not manifest["diagnostics"]["passed"]:
        _err("diagnostics gate failed (--strict)")
        raise typer.Exit(EXIT_DIAGNOSTICS)


def _print_fit(manifest: dict, out: Path) -> None:
    d = manifest["diagnostics"]
    per = manifest["summary"]["gap_by_period"]
    src = "loaded from cache" if manifest["from_cache"] else f"fitted in {manifest['timings']}"
    typer.echo(f"{src}; key {manifest['fit_key']}")
    for line in period_lines(per, manifest["scenario"]["name"]):
        typer.echo(line)
    status = "passed" if d["passed"] else "FAILED: " + ", ".join(k for k, v in d["checks"].items() if not v)
    typer.echo(f"diagnostics {status} (max R-hat {d['max_rhat']}, min ESS bulk {d['min_ess_bulk']}, "
               f"tail {d['min_ess_tail']}, divergences {d['divergences']})")
    typer.echo(f"wrote {out}/")


@app.command()
def simulate(
    scenario: str = typer.Option("baseline", "--scenario", "-s", help="Scenario name or TOML file."),
    world: str = typer.Option(None, "--world", help="Draw from a world that is not the model "
                              "(analysis/scenarios/worlds/NAME.toml or a TOML file): baseline, "
                              "official, hidden_volume, inflated_donors, relays."),
    seed: int = typer.Option(1, "--seed", help="Random seed of the simulation."),
    out: Path = typer.Option(..., "--out", help="Directory for the synthetic data/raw files + truth.csv."),
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Template data (structure of the rows)."),
) -> None:
    """Draw a synthetic dataset from the model's generative process, or from --world (passes tgap check)."""
    from analysis.runtime import configure

    configure()
    sc = load_scenario_or_exit(scenario)
    w = None
    if world is not None:
        from analysis.model.worlds import load_world
        from analysis.scenarios import ScenarioError

        try:
            w = load_world(world)
        except ScenarioError as exc:
            _err(f"world error: {exc}")
            raise typer.Exit(EXIT_SCENARIO) from None
    obs = ensure_observations(data_dir, derived_dir_for(data_dir))
    from analysis.model.simulate import write_simulation

    if w is None:
        from analysis.model.simulate import simulate as run_simulate

        sim_obs, sources, truth, _ = run_simulate(obs, sc, seed)
    else:
        from analysis.model.worlds import generate

        datasets, sources, _ = generate(w, obs, sc, seed, 1)
        sim_obs, truth = datasets[0]
    write_simulation(sim_obs, sources, truth, out)
    label = f" from world {w.name}" if w is not None else ""
    typer.echo(f"wrote {len(sim_obs)} simulated observations{label} and truth.csv ({len(truth)} years) to {out}")


@app.command()
def forensics(
    godt: list[Path] = typer.Option(None, "--godt", help="GODT export (repeatable; later files win). "
                                    "Default: the exports in ../shared/data/godt when present."),
    derived: Path = typer.Option(DERIVED_DIR, "--derived", help="Directory with observations.csv."),
    out: Path = typer.Option(REPORTS_DIR / "forensics", "--out", help="Output directory."),
    min_run: int = typer.Option(None, "--min-run", help="Minimum run of years for benchmark countries."),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Write the PNG charts."),
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


@app.command("donor-yield")
def donor_yield(
    godt: list[Path] = typer.Option(None, "--godt", help="GODT export (repeatable). "
                                    "Default: the exports in ../shared/data/godt when present."),
    min_donors: float = typer.Option(50, "--min-donors", help="Leave out country-years with fewer "
                                     "utilized deceased donors."),
) -> None:
    """Organs transplanted per utilized deceased donor over the GODT country-years: the summary
    baseline.toml records as the rationale of supply.organs_per_donor."""
    import json

    from analysis.data.godt import read_godt_many
    from analysis.forensics.donor_yield import organs_per_utilized_donor, summary
    from analysis.io import sha256_file

    paths = list(godt or sorted(SHARED_GODT.glob("*.csv")))
    if not paths:
        _err("no GODT export: pass --godt PATH")
        raise typer.Exit(1)
    for p in paths:
        if not p.is_file():
            _err(f"{p}: GODT export not found")
            raise typer.Exit(1)
    out = summary(organs_per_utilized_donor(read_godt_many(paths), min_donors))
    out["exports"] = {p.name: sha256_file(p) for p in paths}
    out["min_donors"] = min_donors
    typer.echo(json.dumps(out, indent=2))


# reports and notebooks (analysis/report/cli_commands.py)
from analysis.report.cli_commands import notebooks as _notebooks  # noqa: E402
from analysis.report.cli_commands import report as _report  # noqa: E402

app.command("report")(_report)
app.command("notebooks")(_notebooks)

# the fit cache (analysis/model/cache.py)
from analysis.model.cache import cli as _cache_cli  # noqa: E402

app.add_typer(_cache_cli, name="cache")

# sensitivity sweeps and break-even search (analysis/sensitivity/cli.py)
from analysis.sensitivity import cli as _sensitivity  # noqa: E402

app.command("sensitivity")(_sensitivity.sensitivity)
app.command("breakeven")(_sensitivity.breakeven)

# the published analyses as scenarios, refitted (analysis/sensitivity/replicate_cli.py)
from analysis.sensitivity.replicate_cli import replicate as _replicate  # noqa: E402

app.command("replicate")(_replicate)


METAVARS = {"Path": "PATH", "list[Path]": "PATH", "int": "N", "float": "X", "str": "TEXT",
            "list[str]": "TEXT", "bool": ""}


def command():
    """The click command behind ``app`` with conventional help: flags show no type placeholder,
    values show PATH / N / TEXT instead of Typer's ``<path>``, ``<int>``, ``<str>``."""
    cmd = typer.main.get_command(app)

    def fix(c) -> None:
        for p in c.params:
            if getattr(p, "param_type_name", "") == "option" and p.metavar is None:
                bare = p.bare_type() if hasattr(p, "bare_type") else ""
                p.metavar = "" if getattr(p, "is_flag", False) else METAVARS.get(bare, "VALUE")
            elif getattr(p, "param_type_name", "") == "argument":
                p.display_type_rich = lambda ctx: None  # the argument's name says what it is
        import typer._click as tclick  # Typer's vendored click: the --help option is made (and cached) here

        help_opt = c.get_help_option(tclick.Context(c))
        if help_opt is not None:
            help_opt.metavar = ""
        for sub in getattr(c, "commands", {}).values():
            fix(sub)

    fix(cmd)
    return cmd


def main() -> None:  # pragma: no cover
    command()(prog_name="tgap")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
