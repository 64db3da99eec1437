"""`tgap report` and `tgap notebooks` (registered in analysis/cli.py). Heavy imports stay inside."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from analysis.cli_support import DATA_DIR, period_lines
from analysis.cli_support import err as _err


def report(
    scenario: str = typer.Option("baseline", "--scenario", "-s", help="Scenario name or TOML file."),
    out: Path = typer.Option(None, "--out", help="Report directory (default reports/<scenario>)."),
    quick: bool = typer.Option(False, "--quick", help="Small draws (smoke runs)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Refit even if a cached fit exists."),
    seed: int = typer.Option(None, "--seed", help="Sampler seed (default: the scenario's sampler.seed)."),
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Directory of raw CSV files (default: "
                                  "data/raw of the project root)."),
    derived: Path = typer.Option(None, "--derived", help="Where ingested data goes (as for tgap fit)."),
    godt: list[Path] = typer.Option(None, "--godt", help="GODT export for the forensic checks "
                                    "(repeatable). Default: the exports in ../shared/data/godt when present."),
    godt_dir: Path = typer.Option(None, "--godt-dir", help="Directory whose *.csv are the GODT exports "
                                  "when no --godt is given (default ../shared/data/godt)."),
    forensics_out: Path = typer.Option(None, "--forensics-out",
                                       help="Where the forensic outputs go (read back by the report; "
                                       "default OUT/forensics, inside the report)."),
    run_forensics: bool = typer.Option(True, "--forensics/--no-forensics",
                                       help="Run the forensic checks (else read --forensics-out as is)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 when the diagnostics gate fails."),
    leave_out: bool = typer.Option(True, "--leave-out/--no-leave-out",
                                   help="Refit without each large origin and evidence group (quick draws, "
                                   "one compiled model; cached per fit) for the model-criticism section."),
    leave_out_groups: str = typer.Option("", "--leave-out-groups",
                                         help="Comma-separated origins and/or group:NAME to leave out "
                                         "(default: the 4 origins with most rows and every evidence group)."),
) -> None:
    """Ingest if stale, fit or load the cached fit, run the forensic checks, and write the report:
    charts (PNG + SVG), tables (CSV), index.html and manifest.json."""
    from analysis.runtime import configure

    configure()
    from analysis import cli_support as cli

    t0 = time.perf_counter()
    sc = cli.load_scenario_or_exit(scenario)
    out = out or cli.REPORTS_DIR / sc.name
    forensics_out = forensics_out or out / "forensics"
    godt_paths = list(godt or [])
    godt_dir = godt_dir or cli.SHARED_GODT
    for p in godt_paths:
        if not p.exists():
            _err(f"{p}: GODT export not found")
            raise typer.Exit(cli.EXIT_DATA)
    derived = cli.derived_dir_for(data_dir, derived)
    obs = cli.ensure_observations(data_dir, derived)
    timings = {"ingest_s": round(time.perf_counter() - t0, 2)}

    from analysis.data.ingest import read_manifest
    from analysis.model.fit import CacheMismatch, SamplerSettings, run_fit
    from analysis.report.forensics_section import load_section
    from analysis.report.progress import Steps, interactive
    from analysis.report.run import build_report, read_sources

    groups = [g.strip() for g in leave_out_groups.split(",") if g.strip()] or None
    if leave_out and groups:  # names checked before the fit, not after it
        from analysis.model.evidence import build_evidence
        from analysis.model.leave_out import left_out_mask

        ev = build_evidence(obs, sc)
        for g in groups:
            try:
                left_out_mask(ev, g)
            except ValueError as exc:
                _err(f"--leave-out-groups: {exc}")
                raise typer.Exit(cli.EXIT_SCENARIO) from None
    settings = SamplerSettings.from_scenario(sc, quick=quick, seed=seed)
    typer.echo(f"report: scenario {sc.name} ({settings.name}, {settings.chains} chains x {settings.tune} tune "
               f"+ {settings.draws} draws, seed {settings.seed})")
    t1 = time.perf_counter()
    try:
        result = run_fit(obs, sc, settings, use_cache=not no_cache, progressbar=sys.stderr.isatty(),
                         light=True)  # a cached fit read with xarray alone (no ArviZ import)
    except CacheMismatch as exc:
        _err(str(exc))
        raise typer.Exit(cli.EXIT_CACHE) from None
    except cli.ScenarioError as exc:  # the data do not cover what the scenario asks for
        cli.scenario_exit(exc)
    timings["fit_s"] = round(time.perf_counter() - t1, 2)
    typer.echo(f"report: fit {'loaded from cache' if result.from_cache else 'sampled'} "
               f"({timings['fit_s']:.1f} s; key {result.key})")

    godt_found = None
    if run_forensics:
        from analysis.forensics.run import run_forensics as run_checks

        if not godt_paths:
            godt_paths = sorted(godt_dir.glob("*.csv")) if godt_dir.is_dir() else []
        godt_found = bool(godt_paths)
        t2 = time.perf_counter()
        try:
            run_checks(obs, godt_paths, forensics_out, charts=True, reuse=True)
        except ValueError as exc:
            _err(f"forensic checks: {exc}; report not written")
            raise typer.Exit(cli.EXIT_DATA) from None
        timings["forensics_s"] = round(time.perf_counter() - t2, 2)
        typer.echo(f"report: forensic checks -> {forensics_out}/ ({timings['forensics_s']:.1f} s; GODT: "
                   f"{', '.join(p.name for p in godt_paths) or 'none found'})")
    section = load_section(forensics_out, godt_dir=None if godt else godt_dir, godt_found=godt_found)
    leave_table = None
    if leave_out:
        from analysis.model.leave_out import cached_leave_out

        t3 = time.perf_counter()
        leave_table, cached = cached_leave_out(
            result, groups, on_step=lambda i, n, g: typer.echo(f"report: leave-one-origin-out {i + 1}/{n}: {g}"))
        timings["leave_out_s"] = round(time.perf_counter() - t3, 2)
        typer.echo(f"report: leave-one-origin-out {'loaded from cache' if cached else 'refitted'} "
                   f"({timings['leave_out_s']:.1f} s)")

    steps = Steps("report", total=None, bar=interactive())
    try:
        manifest = build_report(result, obs, out, inputs=read_manifest(derived), sources=read_sources(data_dir),
                                forensics=section, timings=timings, steps=steps, derived_dir=derived,
                                leave_out=leave_table)
    finally:
        steps.close()
    _print_headline(manifest, out, time.perf_counter() - t0)
    if strict and not manifest["diagnostics"]["passed"]:
        _err("diagnostics gate failed (--strict)")
        raise typer.Exit(cli.EXIT_DIAGNOSTICS)


def _print_headline(manifest: dict, out: Path, total_s: float) -> None:
    import pandas as pd

    from analysis.report.statements import headline_sentence

    per = pd.read_csv(out / "gap_by_period.csv")
    mark = f"[{manifest['run_status']}] " if manifest.get("quick") or not manifest["diagnostics"]["passed"] else ""
    typer.echo(mark + headline_sentence(per, manifest["scenario"]["name"]))
    for line in period_lines(per, manifest["scenario"]["name"]):
        typer.echo(line)
    d = manifest["diagnostics"]
    status = "passed" if d["passed"] else "FAILED: " + ", ".join(k for k, v in d["checks"].items() if not v)
    typer.echo(f"diagnostics {status} (max R-hat {d['max_rhat']}, min ESS bulk {d['min_ess_bulk']}, "
               f"tail {d['min_ess_tail']}, divergences {d['divergences']})")
    n_fig = sum(1 for f in manifest["report"]["files"] if f.startswith("figures/") and f.endswith(".png"))
    typer.echo(f"wrote {out}/index.html, manifest.json, {n_fig} charts (PNG + SVG) and tables "
               f"in {total_s:.1f} s")


def notebooks(
    scenario: str = typer.Option("baseline", "--scenario", "-s", help="Scenario name or TOML file."),
    quick: bool = typer.Option(False, "--quick", help="Small draws inside the notebooks."),
    data_dir: Path = typer.Option(DATA_DIR, "--data-dir", help="Directory of raw CSV files (default: "
                                  "data/raw of the project root)."),
    out: Path = typer.Option(None, "--out", help="Directory for the HTML (default reports/<scenario>/notebooks)."),
    only: list[str] = typer.Option(None, "--only", help="Run only notebooks whose name contains this "
                                   "(repeatable)."),
) -> None:
    """Execute the notebooks (notebooks/*.py) headless with papermill; write HTML for each."""
    from analysis.runtime import configure

    configure()
    import tempfile

    from analysis import cli_support as cli
    from analysis.io import atomic_write_text
    from analysis.report.notebooks import execute, notebook_dir, sources, to_html
    from analysis.report.progress import Steps, interactive

    sc = cli.load_scenario_or_exit(scenario)
    ref = str(Path(scenario).resolve()) if Path(scenario).suffix == ".toml" else scenario
    try:
        found = sources(only)
    except FileNotFoundError as exc:
        _err(str(exc))
        raise typer.Exit(1) from None
    if not found:
        _err(f"no notebooks match {', '.join(only or [])} in {notebook_dir()}")
        raise typer.Exit(1)
    out = out or cli.REPORTS_DIR / sc.name / "notebooks"
    params = {"scenario": ref, "data_dir": str(Path(data_dir).resolve()), "quick": quick}
    bar = interactive()
    failed = []
    with Steps("notebooks", total=len(found), bar=bar) as steps:
        for src in found:
            with steps.step(src.stem), tempfile.TemporaryDirectory(prefix="tgap-nb-") as tmp:
                try:
                    executed = execute(src, Path(tmp), params, progress=False)
                except Exception as exc:  # noqa: BLE001 - papermill raises its own error types
                    failed.append(f"{src.name}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1:]}")
                    continue
                out.mkdir(parents=True, exist_ok=True)
                atomic_write_text(out / f"{src.stem}.html", to_html(executed))
                (out / f"{src.stem}.html").chmod(0o644)  # like every other output
    if failed:
        for f in failed:
            _err(f"notebook failed: {f}")
        _err(f"{len(failed)} of {len(found)} notebook(s) failed; their HTML was not written")
        raise typer.Exit(1)
    typer.echo(f"wrote {len(found)} notebook(s) as HTML to {out}/")
