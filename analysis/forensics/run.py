"""Run every forensic check and write ``forensics.csv`` (+ detail tables, manifest, charts).

Target series (``target_series``), each tested on its own:

- ``godt_actual_dd``: GODT ``actual_dd`` of the target country, every year with a value > 0;
- ``official_donors``: from the observations table, ``official_donor_series`` (one value per year);
- ``official_donors_2010_2018``: the same restricted to ``PAPER_WINDOW`` (the years Robertson,
  Hinde & Lavee analysed), when that drops years;
- ``official_then_godt``: the official series, with GODT filling years it lacks (when that adds
  years);
- ``<name>_run``: for each of the above whose years have gaps, its longest consecutive run.

Each series with at least 4 points is fitted (``fits.fit_series``) and ranked among GODT countries
(``benchmark``): a series of consecutive years against every country's latest window of as many
consecutive years (qualifying on ``min_run`` if larger), a series with gaps against countries with
all of the same calendar years, or -- when fewer than ``MIN_CALENDAR_COUNTRIES`` have them --
against the same pattern of years at the end of each country's latest run (annual form only). The
``n_countries`` row's flag names the rule used (``windows=...``). Series of 6+ points are also fitted on their
first 5, 6, ... points (``fit_through``) to follow the fit as years are added.

``forensics.csv`` columns: check, series, years, statistic, value, benchmark_percentile, flag.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.godt import MEASURES, read_godt_many
from analysis.forensics import benchmark, consistency, ratios
from analysis.forensics.fits import FORMS, MODELS, Fit, fit_series
from analysis.forensics.output import write_csv, write_json
from analysis.forensics.rank import is_consecutive, percentile_of, years_label
from analysis.io import remove_leftovers, sha256_file

COLUMNS = ["check", "series", "years", "statistic", "value", "benchmark_percentile", "flag"]
SOURCE_KIND_PRIORITY = ("official_registry", "official_statement", "international_registry",
                        "peer_reviewed", "dataset", "ngo_report", "news")
"""Preference among sources for one year of the official donor series, best first."""
EXTREME_PERCENTILE = 5.0
MIN_POINTS = 4
MIN_CALENDAR_COUNTRIES = 20
"""A series with gaps is compared on its calendar years when at least this many countries have
them all; otherwise on the same pattern of years at the end of each country's latest run."""
PAPER_WINDOW = (2010, 2018)
"""Years of the COTRS series analysed by Robertson, Hinde & Lavee (2019)."""


def official_donor_series(observations: pd.DataFrame | None) -> pd.DataFrame:
    """China's deceased-donor series from the observations table, one row per year.

    Candidates: family ``donation``, unit ``donors``, kind ``reported``, donor_type ``deceased``,
    organ ``all`` (or blank), a single year (year_end blank or equal to year), a value, and no flag
    in ``consistency.EXCLUDED_FLAGS`` (year-to-date and projected figures). Per year the chosen row is the
    first by: source kind in ``SOURCE_KIND_PRIORITY`` order (official_registry, then
    official_statement, then the rest; unknown kinds last), not flagged ``secondary`` before
    ``secondary``, qualifier ``exact`` before any other, then ``obs_id``. Columns: year, value,
    obs_id, source_id, source_kind, qualifier, n_candidates, n_values (distinct values among the
    candidates).
    """
    cols = ["year", "value", "obs_id", "source_id", "source_kind", "qualifier", "n_candidates",
            "n_values"]
    if observations is None or observations.empty:
        return pd.DataFrame(columns=cols)
    o = consistency.normalize_observations(observations)
    sel = o[(o["family"] == "donation") & (o["unit"] == "donors") & (o["kind"] == "reported")
            & (o["donor_type"] == "deceased") & (o["organ"] == "all") & (o["year_end"] == o["year"])]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    prio = {k: i for i, k in enumerate(SOURCE_KIND_PRIORITY)}
    sel = sel.assign(_p=sel["source_kind"].map(prio).fillna(len(prio)),
                     _s=consistency.flag_sets(sel["flag"]).map(lambda f: "secondary" in f).astype(int),
                     _q=(sel["qualifier"] != "exact").astype(int))
    sel = sel.sort_values(["year", "_p", "_s", "_q", "obs_id"], kind="mergesort")
    counts = sel.groupby("year").agg(n_candidates=("value", "size"), n_values=("value", "nunique"))
    best = sel.drop_duplicates("year", keep="first").set_index("year")
    best = best[["value", "obs_id", "source_id", "source_kind", "qualifier"]].join(counts)
    return best.reset_index()[cols]


def _with_run(out: dict[str, pd.Series], name: str, s: pd.Series) -> None:
    """Add ``name`` and, when its years have gaps, ``name_run`` (its longest consecutive run,
    unless that is already one of the series)."""
    out[name] = s
    first, last = benchmark.longest_run(s.index)
    run = s.loc[first:last]
    if len(run) != len(s) and not any(run.equals(other) for other in out.values()):
        out[f"{name}_run"] = run


def target_series(observations: pd.DataFrame | None, godt: pd.DataFrame,
                  country: str = "China", measure: str = "actual_dd",
                  window: tuple[int, int] = PAPER_WINDOW) -> dict[str, pd.Series]:
    """name -> Series(value, index=year) of the series to test (see module doc)."""
    out: dict[str, pd.Series] = {}
    godt_s = pd.Series(dtype=float)
    if not godt.empty:
        g = godt[(godt["country"] == country) & (godt[measure] > 0)]
        godt_s = g.set_index("year")[measure].sort_index().astype(float)
        if len(godt_s):
            _with_run(out, f"godt_{measure}", godt_s)
    official = official_donor_series(observations)
    if len(official):
        s = official.set_index("year")["value"].astype(float).sort_index()
        _with_run(out, "official_donors", s)
        paper = s.loc[window[0]:window[1]]
        if len(paper) and len(paper) != len(s):
            _with_run(out, f"official_donors_{window[0]}_{window[1]}", paper)
        extra = godt_s[~godt_s.index.isin(s.index)]
        if len(extra):
            _with_run(out, "official_then_godt", pd.concat([s, extra]).sort_index())
    return out


def _row(check, series, years, statistic, value, pct=np.nan, flag="") -> dict:
    return {"check": check, "series": series, "years": years, "statistic": statistic,
            "value": float(value) if value is not None else np.nan,
            "benchmark_percentile": pct, "flag": flag}


def _fit_rows(check: str, name: str, fits: Sequence[Fit], ranks: pd.DataFrame | None) -> list[dict]:
    rows = []
    for f in fits:
        label, years = f"{name}:{f.form}", years_label(f.years)
        pct, flag = np.nan, ""
        if ranks is not None and len(ranks):
            r = ranks[(ranks["form"] == f.form) & (ranks["model"] == f.model)]
            if len(r):
                pct = float(r["percentile"].iloc[0])
                if pct <= EXTREME_PERCENTILE:
                    flag = "closer_to_perfect_fit_than_95pct_of_countries"
        rows.append(_row(check, label, years, f"{f.model}.r2", f.r2))
        rows.append(_row(check, label, years, f"{f.model}.one_minus_r2", f.one_minus_r2, pct, flag))
        rows.append(_row(check, label, years, f"{f.model}.aic", f.aic))
        rows += [_row(check, label, years, f"{f.model}.coef_{k}", v) for k, v in f.coefficients.items()]
    return rows


def _rank_rows(name: str, fits: Sequence[Fit], ranks: pd.DataFrame, windows: str) -> list[dict]:
    rows = []
    years = {f.form: years_label(f.years) for f in fits}
    stats = ["n_countries", "rank", "median_one_minus_r2", "min_one_minus_r2",
             "ratio_median_to_target", "orders_of_magnitude", "share_10x", "share_100x"]
    for r in ranks.itertuples(index=False):
        for stat in stats:
            value = getattr(r, stat)
            flag = f"windows={windows}" if stat == "n_countries" else ""
            if stat == "orders_of_magnitude" and value >= 1:
                flag = "at_least_10x_closer_than_median_country"
            rows.append(_row("benchmark", f"{name}:{r.form}", years[r.form], f"{r.model}.{stat}",
                             value, r.percentile if stat == "rank" else np.nan, flag))
    return rows


def _fit_target(name: str, s: pd.Series, godt: pd.DataFrame, min_run: int | None,
                measure: str, exclude: Sequence[str]):
    """Fits of one target series, the benchmark fits, the ranks and how windows were chosen."""
    years, values = s.index.to_numpy(dtype=int), s.to_numpy(dtype=float)
    fits = fit_series(years, values, MODELS, FORMS)
    bench, ranks, windows = pd.DataFrame(), pd.DataFrame(), ""
    if not godt.empty:
        if is_consecutive(years):
            windows = "latest_consecutive_window"
            bench = benchmark.benchmark_fits(godt, length=len(years), measure=measure,
                                             exclude=exclude, min_run=min_run)
        else:
            windows = "same_calendar_years"
            bench = benchmark.benchmark_fits(godt, years=years, measure=measure,
                                             forms=("annual",), exclude=exclude)
            if bench["country"].nunique() < MIN_CALENDAR_COUNTRIES:
                windows = "same_year_pattern_latest_window"
                bench = benchmark.benchmark_fits(godt, years=years, measure=measure,
                                                 forms=("annual",), exclude=exclude,
                                                 min_run=min_run, align="pattern")
        ranks = benchmark.rank_target(bench, fits)
    return fits, bench, ranks, windows


def _prefix_rows(name: str, s: pd.Series) -> list[dict]:
    """Quadratic fits on the first 5, 6, ... points (annual; cumulative when consecutive)."""
    rows = []
    if len(s) < 6:
        return rows
    for end in range(5, len(s) + 1):
        part = s.iloc[:end]
        fits = fit_series(part.index.to_numpy(), part.to_numpy(), ("quadratic", "quadratic_origin"))
        for f in fits:
            rows.append(_row("fit_through", f"{name}:{f.form}", years_label(f.years),
                             f"{f.model}.r2", f.r2))
    return rows


def _ratio_rows(godt: pd.DataFrame, country: str) -> tuple[list[dict], pd.DataFrame]:
    pct = ratios.ratio_percentiles(ratios.godt_ratios(godt), target=country)
    rows = []
    for r in pct.itertuples(index=False):
        outside = r.n_countries > 0 and (r.target_value < r.p05 or r.target_value > r.p95)
        rows.append(_row("ratio", f"godt:{country}", str(r.year), r.ratio, r.target_value,
                         r.percentile, "outside_p05_p95" if outside else ""))
        rows.append(_row("ratio", "godt:other_countries", str(r.year), f"{r.ratio}.median", r.median))
    return rows, pct


def _observation_ratio_rows(obs: pd.DataFrame | None, godt: pd.DataFrame, country: str) -> list[dict]:
    """Organs per donor stated by each source, ranked among GODT countries' transplants per donor
    in the same (single) year."""
    per_donor = ratios.observation_organs_per_donor(obs)
    if per_donor.empty:
        return []
    godt_tpd = pd.DataFrame(columns=["country", "year", "ratio", "value"])
    if not godt.empty:
        godt_tpd = ratios.godt_ratios(godt)
        godt_tpd = godt_tpd[(godt_tpd["ratio"] == "transplants_per_donor")
                            & (godt_tpd["country"] != country)]
    rows = []
    for r in per_donor.itertuples(index=False):
        others = godt_tpd.loc[godt_tpd["year"] == r.year, "value"] if r.year == r.year_end else []
        pct = percentile_of(others, r.organs_per_donor) if len(others) else np.nan
        flag = "beyond_95pct_of_countries" if pct < 5 or pct > 95 else ""
        rows.append(_row("ratio", f"obs:{r.source_id}", years_label(range(r.year, r.year_end + 1)),
                         f"organs_per_donor.{r.kind}", r.organs_per_donor, pct, flag))
    return rows


def _consistency_rows(obs: pd.DataFrame | None, godt: pd.DataFrame, country: str) -> list[dict]:
    rows = []
    if obs is not None and len(obs):
        for r in consistency.source_disagreements(obs).itertuples(index=False):
            series = f"{r.source_a} vs {r.source_b}"
            what = f"{r.unit}/{r.kind}/{r.organ}/{r.donor_type}"
            years = years_label(range(r.year, r.year_end + 1))
            rows.append(_row("source_disagreement", series, years, f"{what}.difference",
                             r.difference, flag="disagreement"))
            rows.append(_row("source_disagreement", series, years, f"{what}.relative_difference",
                             r.relative_difference, flag="disagreement"))
        for r in consistency.repeated_observation_values(obs).itertuples(index=False):
            series = f"{r.series}/{r.unit}/{r.kind}/{r.organ}/{r.donor_type}"
            rows.append(_row("repeated_value", series, f"{r.first_year}-{r.last_year}", "value",
                             r.value, flag="repeated_value"))
        for r in consistency.sum_mismatches(obs).itertuples(index=False):
            scope = r.donor_type if r.check == "organ_sum" else r.organ
            rows.append(_row(r.check, f"{r.source_id}/{r.unit}/{r.kind}/{scope}",
                             years_label(range(r.year, r.year_end + 1)), "parts_minus_total",
                             r.difference, flag="mismatch" if r.mismatch
                             else "ambiguous" if r.status.startswith("ambiguous")
                             else "shortfall_no_other_organs" if r.status.startswith("main") else ""))
    if not godt.empty:
        rep = consistency.repeated_godt_values(godt, MEASURES, countries=[country])
        for r in rep.itertuples(index=False):
            rows.append(_row("repeated_value", f"godt:{r.country}:{r.measure}",
                             f"{r.first_year}-{r.last_year}", "value", r.value, flag="repeated_value"))
    return rows


OUTPUTS = ("forensics.csv", "forensics_benchmark.csv", "forensics_ratios.csv", "forensics_manifest.json")
_CODE = [Path(__file__).parent, Path(__file__).parents[1] / "data" / "godt.py"]


def inputs_key(observations: pd.DataFrame | None, godt_paths: list[Path], **settings) -> str:
    """Hash of everything the forensic outputs depend on: observations, GODT files, settings and
    the forensics code itself."""
    h = hashlib.sha256()
    h.update(b"" if observations is None else observations.to_csv(index=False).encode())
    for p in godt_paths:
        h.update(p.name.encode() + sha256_file(p).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for f in sorted(q for c in _CODE for q in ([c] if c.is_file() else c.glob("*.py"))):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _reusable(out_dir: Path, key: str) -> bool:
    try:
        manifest = json.loads((out_dir / "forensics_manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("inputs_key") == key and all((out_dir / f).exists() for f in OUTPUTS) and all(
        (out_dir / f).exists() for f in manifest.get("charts", []))


def run_forensics(observations: pd.DataFrame | None, godt_paths: list[Path], out_dir: Path, *,
                  country: str = "China", min_run: int | None = None, measure: str = "actual_dd",
                  charts: bool = True, reuse: bool = False) -> pd.DataFrame:
    """Run every check; write forensics.csv, forensics_benchmark.csv, forensics_ratios.csv,
    forensics_manifest.json and (``charts``) PNG charts into ``out_dir``; return forensics.csv.

    ``observations`` is the table of ``analysis.data.ingest.tidy_observations`` (or None);
    ``godt_paths`` GODT exports read with ``read_godt_many`` (later files win). ``min_run`` is the
    minimum run of consecutive positive years for a benchmark country (default: the target's length).
    ``reuse``: when ``out_dir`` already holds the outputs of exactly these inputs (same
    ``inputs_key``, recorded in the manifest: observations, GODT file hashes, settings, forensics
    code), read them back instead of recomputing.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)  # temp files of a run killed while writing
    godt_paths = [Path(p) for p in godt_paths]
    key = inputs_key(observations, godt_paths, country=country, min_run=min_run, measure=measure,
                     charts=charts)
    if reuse and _reusable(out_dir, key):
        from analysis.io import read_csv

        return read_csv(out_dir / "forensics.csv")
    godt = read_godt_many(godt_paths) if godt_paths else pd.DataFrame(columns=["country", "year", measure])
    rows: list[dict] = []
    benches, fitted = [], {}
    for name, s in target_series(observations, godt, country, measure).items():
        if len(s) < MIN_POINTS:
            rows.append(_row("fit", name, years_label(s.index), "insufficient_points", len(s),
                             flag="not_fitted"))
            continue
        fits, bench, ranks, windows = _fit_target(name, s, godt, min_run, measure, [country])
        fitted[name] = (s, fits, bench, ranks)
        rows += _fit_rows("fit", name, fits, ranks)
        if len(ranks):
            rows += _rank_rows(name, fits, ranks, windows)
        rows += _prefix_rows(name, s)
        if len(bench):
            benches.append(bench.assign(target_series=name))
    ratio_table = pd.DataFrame()
    if not godt.empty:
        ratio_rows, ratio_table = _ratio_rows(godt, country)
        rows += ratio_rows
    rows += _observation_ratio_rows(observations, godt, country)
    rows += _consistency_rows(observations, godt, country)
    result = pd.DataFrame(rows, columns=COLUMNS)
    bench_all = pd.concat(benches, ignore_index=True) if benches else pd.DataFrame()
    write_csv(bench_all, out_dir / "forensics_benchmark.csv")
    write_csv(ratio_table, out_dir / "forensics_ratios.csv")
    write_csv(result, out_dir / "forensics.csv")
    chart_files = []
    if charts:
        from analysis.forensics import charts as charts_mod

        chart_files = charts_mod.write_charts(fitted, ratio_table, out_dir, country)
    write_json({  # written last: its inputs_key marks a complete set of outputs
        "godt_files": {p.name: sha256_file(p) for p in godt_paths},
        "observations_rows": 0 if observations is None else int(len(observations)),
        "target_series": {k: years_label(v[0].index) for k, v in fitted.items()},
        "country": country, "measure": measure, "min_run": min_run,
        "inputs_key": key, "charts": chart_files,
    }, out_dir / "forensics_manifest.json")
    return result


def summary(result: pd.DataFrame) -> pd.DataFrame:
    """One row per target series, form and model: 1 - R², rank / n, percentile, median, orders."""
    fit = result[(result["check"] == "fit") & result["statistic"].str.endswith(".one_minus_r2")]
    bench = result[result["check"] == "benchmark"]
    rows = []
    for r in fit.itertuples(index=False):
        model = r.statistic.split(".")[0]
        b = bench[(bench["series"] == r.series)].set_index("statistic")["value"]
        rows.append({"series": r.series, "years": r.years, "model": model,
                     "one_minus_r2": r.value,
                     "rank": b.get(f"{model}.rank"), "n_countries": b.get(f"{model}.n_countries"),
                     "percentile": r.benchmark_percentile,
                     "median_country": b.get(f"{model}.median_one_minus_r2"),
                     "orders_of_magnitude": b.get(f"{model}.orders_of_magnitude")})
    return pd.DataFrame(rows)
