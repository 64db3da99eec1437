"""``tgap replicate``: fit every literature scenario and the baseline; write replication.csv,
replication.md and a manifest. Registered in analysis/cli.py. Exit codes: 0 done (a failed
scenario is a row with its error), 1 bad data, 2 bad scenario / option value."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from analysis.cli_support import DATA_DIR, REPORTS_DIR
from analysis.cli_support import err as _err
from analysis.sensitivity.cli import (
    EXIT_USAGE,
    Chains,
    DataDir,
    Derived,
    Draws,
    NoCache,
    Quick,
    Sampler,
    Seed,
    Tune,
)


def replicate(
    only: list[str] = typer.Option(None, "--scenario", "-s", help="Literature scenario to fit "
                                   "(repeatable; default: every analysis/scenarios/literature/*.toml)."),
    quick: Quick = False,
    out: Path = typer.Option(None, "--out", help="Output directory (default reports/replication)."),
    data_dir: DataDir = DATA_DIR,
    derived: Derived = None,
    seed: Seed = None,
    draws: Draws = None,
    tune: Tune = None,
    chains: Chains = None,
    sampler: Sampler = None,
    no_cache: NoCache = False,
) -> None:
    """The field's published analyses as scenarios, refitted beside the baseline: replication.csv."""
    from analysis import cli_support as main_cli
    from analysis.io import atomic_write_text, code_version
    from analysis.progress import Counter
    from analysis.runtime import CACHE_DIR, configure
    from analysis.scenarios import ScenarioError, literature

    configure()
    try:
        from analysis.sensitivity.replicate import literature_scenarios

        scenarios = literature_scenarios(list(only) if only else None)
    except ScenarioError as exc:
        main_cli.scenario_exit(exc)
    if not scenarios:
        _err(f"no literature scenarios found; available: {', '.join(literature()) or 'none'}")
        raise typer.Exit(EXIT_USAGE)
    derived = main_cli.derived_dir_for(data_dir, derived)
    obs = main_cli.ensure_observations(data_dir, derived)
    from analysis.model.fit import SamplerSettings, run_fit
    from analysis.sensitivity.output import json_text, now_utc
    from analysis.sensitivity.replicate import markdown, replication_table, table_text

    overrides = {"seed": seed, "draws": draws, "tune": tune, "chains": chains, "name": sampler}
    cache_dir = (CACHE_DIR / "fits").resolve()
    settings_used: dict[str, dict] = {}

    def fit(sc):
        settings = SamplerSettings.from_scenario(sc, quick=quick, **overrides)
        settings_used[sc.name] = settings.as_dict()
        return run_fit(obs, sc, settings, use_cache=not no_cache, progressbar=False, cache_dir=cache_dir)

    out = out or REPORTS_DIR / "replication"
    typer.echo(f"replicating {len(scenarios)} publication scenario(s) beside the baseline"
               f"{' (quick draws: not for citation)' if quick else ''}: {', '.join(s.name for s in scenarios)}")
    progress = Counter(len(scenarios) + 1, "replicate")
    t0 = time.perf_counter()
    try:
        table = replication_table(obs, scenarios, fit, progress=progress)
    except ScenarioError as exc:  # the baseline itself cannot be fitted on these data
        main_cli.scenario_exit(exc)
    finally:
        progress.close()
    wall = round(time.perf_counter() - t0, 1)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"created_utc": now_utc(), "code_version": code_version(), "quick": quick,
                "wall_s": wall, "scenarios": {s.name: {"hash": s.hash, "files": [str(p) for p in s.files]}
                                               for s in scenarios},
                "sampler": settings_used, "rows": len(table)}
    atomic_write_text(out / "replication.csv", table_text(table))
    atomic_write_text(out / "replication.md", markdown(table))
    atomic_write_text(out / "manifest.json", json_text(manifest))
    typer.echo(markdown(table), nl=False)
    typer.echo(f"wrote {out}/replication.csv, replication.md, manifest.json in {wall} s")
    if (table["status"] == "failed").all():
        _err("every literature scenario failed to fit")
        raise typer.Exit(1)
