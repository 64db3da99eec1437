"""``tgap sensitivity`` and ``tgap breakeven``: parse, call analysis.sensitivity.run, print.

Registered in analysis/cli.py. Exit codes: 0 done (failed settings are recorded in the table),
1 bad data or every setting failed, 2 bad scenario / --vary / option value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.cli_support import DATA_DIR, REPORTS_DIR
from analysis.cli_support import err as _err

EXIT_DATA, EXIT_USAGE = 1, 2

# options shared by both commands, declared once (typer reads them from the annotations)
Scenario = Annotated[str, typer.Option("--scenario", "-s", help="Base scenario name or TOML file.")]
Jobs = Annotated[int, typer.Option("--jobs", help="Parallel fits (joblib processes or Dask workers).")]
Backend = Annotated[str, typer.Option("--backend", help="local (joblib) | dask")]
Scheduler = Annotated[str, typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster).")]
Quick = Annotated[bool, typer.Option("--quick", help="Small draws (the scenario's sampler.quick).")]
Out = Annotated[Path, typer.Option("--out", help="Output directory (default reports/sensitivity/<scenario>).")]
DataDir = Annotated[Path, typer.Option("--data-dir", help="Directory of raw CSV files.")]
Derived = Annotated[Path, typer.Option("--derived", help="Observations directory (default: beside --data-dir).")]
Seed = Annotated[int, typer.Option("--seed", help="Sampler seed (default: the scenario's sampler.seed).")]
Draws = Annotated[int, typer.Option("--draws", help="Posterior draws per chain (default: the scenario's).")]
Tune = Annotated[int, typer.Option("--tune", help="Tuning steps per chain (default: the scenario's).")]
Chains = Annotated[int, typer.Option("--chains", help="Number of chains (default: the scenario's).")]
Sampler = Annotated[str, typer.Option("--sampler", help="nutpie | nutpie-jax | pymc | numpyro (default: scenario).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Refit even where a cached fit exists.")]
Charts = Annotated[bool, typer.Option("--charts/--no-charts")]


def _prepare(scenario: str, data_dir: Path, derived: Path | None, quick: bool, seed, draws, tune, chains,
             sampler, no_cache: bool):
    """Scenario, observations and the shared FitJob (exits 1/2 with a message on bad input)."""
    from analysis import cli_support as main_cli
    from analysis.runtime import CACHE_DIR, configure

    configure()
    sc = main_cli.load_scenario_or_exit(scenario)
    derived = main_cli.derived_dir_for(data_dir, derived)
    obs = main_cli.ensure_observations(data_dir, derived)
    from analysis.sensitivity.sweep import FitJob

    overrides = {"seed": seed, "draws": draws, "tune": tune, "chains": chains, "name": sampler}
    job = FitJob(obs=obs, base=sc, quick=quick, sampler={k: v for k, v in overrides.items() if v is not None},
                 cache_dir=str((CACHE_DIR / "fits").resolve()), use_cache=not no_cache)
    try:
        job.settings(sc)
    except TypeError as exc:
        _err(f"sampler settings: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    return sc, job


def _check_backend(backend: str, jobs: int, scheduler: str | None) -> None:
    from analysis.sensitivity.sweep import BACKENDS

    if backend not in BACKENDS:
        _err(f"--backend {backend!r}: allowed: {', '.join(BACKENDS)}")
        raise typer.Exit(EXIT_USAGE)
    if jobs < 1:
        _err(f"--jobs must be >= 1, found {jobs}")
        raise typer.Exit(EXIT_USAGE)
    if scheduler and backend != "dask":
        _err("--scheduler needs --backend dask")
        raise typer.Exit(EXIT_USAGE)


def sensitivity(
    scenario: Scenario = "baseline",
    vary: list[str] = typer.Option(..., "--vary", help="KEY=V1,V2,... (dotted scenario key; repeatable), "
                                   "e.g. supply.organs_per_donor.mu=0.9,1.03,1.2"),
    samples: int = typer.Option(None, "--samples", help="Latin hypercube of N points over the listed "
                                "ranges instead of the full grid."),
    jobs: Jobs = 1,
    backend: Backend = "local",
    scheduler: Scheduler = None,
    quick: Quick = False,
    out: Out = None,
    data_dir: DataDir = DATA_DIR,
    derived: Derived = None,
    seed: Seed = None,
    draws: Draws = None,
    tune: Tune = None,
    chains: Chains = None,
    sampler: Sampler = None,
    no_cache: NoCache = False,
    oat: bool = typer.Option(True, "--oat/--no-oat", help="Add the one-at-a-time points the tornado "
                             "chart needs when the design lacks them."),
    psense: bool = typer.Option(True, "--psense/--no-psense", help="Power-scaling sensitivity of the base fit."),
    charts: Charts = True,
) -> None:
    """Refit over a grid (or Latin hypercube) of scenario values; table, charts, power-scaling."""
    from analysis.scenarios import ScenarioError
    from analysis.sensitivity.grid import parse_vary

    _check_backend(backend, jobs, scheduler)
    if samples is not None and samples < 1:
        _err(f"--samples must be >= 1, found {samples}")
        raise typer.Exit(EXIT_USAGE)
    try:
        varies = [parse_vary(v) for v in vary]
    except ValueError as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    sc, job = _prepare(scenario, data_dir, derived, quick, seed, draws, tune, chains, sampler, no_cache)
    out = out or REPORTS_DIR / "sensitivity" / sc.name
    from analysis.sensitivity.run import run_sensitivity
    from analysis.sensitivity.sweep import BackendError

    try:
        manifest = run_sensitivity(job, varies, out, samples=samples, backend=backend, jobs=jobs,
                                   scheduler=scheduler, oat=oat, psense=psense, charts=charts, echo=typer.echo)
    except ScenarioError as exc:
        _err(f"scenario error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except BackendError as exc:
        _err(f"{exc}; {out} left unchanged")
        raise typer.Exit(EXIT_USAGE) from None
    table = manifest["table"]
    _print_sweep(table, manifest, out)
    if manifest["failed"] == manifest["settings"]:
        _err("every setting failed; see the error column of sensitivity.csv")
        raise typer.Exit(EXIT_DATA)


def _print_sweep(table, manifest: dict, out: Path) -> None:
    ok = table[table["status"] == "ok"]
    typer.echo(f"{manifest['settings']} settings in {manifest['wall_seconds']} s "
               f"({manifest['fits_from_cache']} from cache, {manifest['failed']} failed)")
    typer.echo(f"organs not explained by declared sources under variants of scenario "
               f"{manifest['base_scenario']['name']} (range of posterior medians over the settings):")
    for period, g in ok.groupby("period", sort=False):
        base = g[g["design"] == "base"]["gap_median"]
        base_txt = f"base {base.iloc[0]:,.0f}; " if len(base) else ""
        typer.echo(f"  {period}: {base_txt}lowest {g['gap_median'].min():,.0f}, highest "
                   f"{g['gap_median'].max():,.0f}; median > 0 in {(g['gap_median'] > 0).sum()} of {len(g)}")
    for r in table[table["status"] != "ok"].drop_duplicates("point").itertuples():
        typer.echo(f"  FAILED {r.label}: {r.error}")
    typer.echo(f"power-scaling of the base fit: {manifest['psense']}")
    typer.echo(f"wrote {out}/")


def breakeven(
    scenario: Scenario = "baseline",
    quantity: list[str] = typer.Option(None, "--quantity", "-q", help="Quantity to search (repeatable; "
                                       "default all): executions, share_executed_used, organs_per_executed, "
                                       "organs_per_donor, donor_report_inflation, official_volume."),
    bracket: list[str] = typer.Option(None, "--bracket", help="NAME=A,B search range (repeatable)."),
    rtol: float = typer.Option(0.01, "--rtol", help="Stop when the root is bracketed within this fraction."),
    gap_tol: float = typer.Option(0.005, "--gap-tol", help="Or when the median gap is within this fraction "
                                  "of its swing over the bracket."),
    max_refits: int = typer.Option(8, "--max-refits", help="Refits per period beyond the bracket ends."),
    jobs: Jobs = 1,
    backend: Backend = "local",
    scheduler: Scheduler = None,
    quick: Quick = False,
    out: Out = None,
    data_dir: DataDir = DATA_DIR,
    derived: Derived = None,
    seed: Seed = None,
    draws: Draws = None,
    tune: Tune = None,
    chains: Chains = None,
    sampler: Sampler = None,
    no_cache: NoCache = False,
    charts: Charts = True,
) -> None:
    """Per period and assumption: the value at which the median unexplained gap is zero (refits)."""
    from analysis.scenarios import ScenarioError
    from analysis.sensitivity import breakeven as be

    _check_backend(backend, jobs, scheduler)
    names = list(quantity or be.DEFAULT_QUANTITIES)
    bad = [n for n in names if n not in be.QUANTITIES]
    problems = [f"--quantity {n!r}: unknown; allowed: {', '.join(be.QUANTITIES)}" for n in bad]
    brackets = {}
    for text in bracket or []:
        try:
            name, ab = be.parse_bracket(text)
            brackets[name] = ab
        except ValueError as exc:
            problems.append(str(exc))
    if not (0 < rtol < 1) or not (0 <= gap_tol < 1) or max_refits < 1:
        problems.append(f"need 0 < --rtol < 1, 0 <= --gap-tol < 1, --max-refits >= 1; found {rtol}, "
                        f"{gap_tol}, {max_refits}")
    if problems:
        for p in problems:
            _err(p)
        raise typer.Exit(EXIT_USAGE)
    sc, job = _prepare(scenario, data_dir, derived, quick, seed, draws, tune, chains, sampler, no_cache)
    try:
        for n in names:  # validate the overrides at both bracket ends before any fit
            for x in brackets.get(n, be.QUANTITIES[n].bracket):
                sc.with_overrides(be.QUANTITIES[n].overrides(x), label=f"break-even {n}")
    except ScenarioError as exc:
        _err(f"scenario error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    out = out or REPORTS_DIR / "sensitivity" / sc.name
    from analysis.sensitivity.run import run_breakeven
    from analysis.sensitivity.sweep import BackendError

    try:
        manifest = run_breakeven(job, names, out, brackets, rtol, gap_tol, max_refits, backend, jobs, scheduler,
                                 charts=charts, echo=typer.echo)
    except BackendError as exc:
        _err(f"{exc}; {out} left unchanged")
        raise typer.Exit(EXIT_USAGE) from None
    table = manifest["table"]
    typer.echo(f"{manifest['refits']} refits in {manifest['wall_seconds']} s. Value at which the posterior "
               f"median of the period's unexplained gap is zero, other assumptions at scenario {sc.name}:")
    for r in table.itertuples():
        if r.status in ("root", "not converged"):
            extra = ""
            for nat in ("executions", "volume"):
                v = getattr(r, f"{nat}_per_year_at_root", None)
                if v is not None and v == v:
                    extra = f" ({v:,.0f} {nat} per year)"
            typer.echo(f"  {r.quantity:24s} {r.period}: {r.breakeven:.4g}{extra}"
                       f"{'' if r.status == 'root' else '  [not converged]'}")
        else:
            typer.echo(f"  {r.quantity:24s} {r.period}: {r.status}  {getattr(r, 'note', '') or ''}"
                       f"{getattr(r, 'error', '') or ''}")
    typer.echo(f"wrote {out}/")
    if len(table) and (table["status"] == "failed").all():
        raise typer.Exit(EXIT_DATA)

