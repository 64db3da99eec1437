"""Synthetic datasets drawn from the model's own generative process.

A template (the shipped observations) fixes the structure: which series, years, kinds and
qualifiers exist. One prior draw gives the latent truth (volume, supply, gap by year) and a
replicated report for every likelihood row; the reports are written back in the data/raw schema
(``tgap check`` passes on them) with ``truth.csv`` beside them.

How censored rows are published (proper censoring, so the model's likelihood is the exact
density of what is published): every censored row gets a threshold c that is independent of the
dataset - the same row's replicated report in a second, independent prior draw. The row is then
published on whichever side of c its drawn report y falls: a one-sided figure as "over c" or
"under c"; a range [c - w/2, c + w/2] (w = the template range's width) when y is inside it, else
"under"/"over" its ends; a bound (recorded minimum, capacity, upper bound) as a lower bound c when
y > c, else an upper bound c. The likelihood of each published form is then exactly
P(Y > c), P(Y < c) or P(a < Y < b). An earlier version put c a little below/above y itself; the
likelihood P(Y > c) is then not the density of c, and the posterior gap sat above the truth in
simulation-based calibration (rank pile-up in the lowest bin; docs/model.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import rules
from analysis.io import csv_text, remove_leftovers, write_files
from analysis.model.build import build_model
from analysis.model.evidence import INF, build_evidence
from analysis.scenarios import Scenario


def _round_count(x: float) -> float:
    return float(max(1, int(round(x))))


def _publish(mode: str, lo: float, hi: float, y: float, c: float, inverse, is_share: bool) -> dict:
    """value / low / high / qualifier / kind for one simulated row (y: drawn report, c: threshold,
    both on the row's transformed scale; lo/hi: the template row's bounds on that scale)."""
    r = (lambda x: round(float(x), 6)) if is_share else _round_count  # 0/1 -> censored (SHARE_EPS)
    if mode == "point":
        return {"value": r(inverse(y))}
    if mode == "bound":
        return {"value": r(inverse(c)), "kind": "lower_bound" if y > c else "upper_bound",
                "qualifier": "exact"}
    if lo > -INF and hi < INF:  # a range: same width as the template's, centred on c
        a, b = c - (hi - lo) / 2, c + (hi - lo) / 2
        if a < y < b:
            return {"value": None, "low": r(inverse(a)), "high": r(inverse(b)), "qualifier": "exact"}
        return {"value": r(inverse(a if y <= a else b)), "qualifier": "under" if y <= a else "over"}
    return {"value": r(inverse(c)), "qualifier": "over" if y > c else "under"}


def simulate_many(template: pd.DataFrame, scenario: Scenario, seed: int, n: int):
    """n synthetic datasets from n prior draws: list of (observations, truth); plus sources."""
    import pymc as pm

    evidence = build_evidence(template, scenario)
    model = build_model(evidence, scenario)
    with model:
        # draws n..2n-1 only supply the censoring thresholds (independent of dataset i)
        draw = pm.sample_prior_predictive(draws=2 * n, random_seed=seed)
    prior, pp = draw.prior, draw.prior_predictive
    tmpl = template.set_index("obs_id")
    datasets = []
    for i in range(n):
        truth = pd.DataFrame({"year": evidence.years,
                              **{v: prior[v].values[0, i] for v in ("volume", "supply", "gap")}})
        rows = []
        for lik, var in (("count", "obs_count"), ("share", "obs_share")):
            ev = evidence.rows[evidence.rows["likelihood"] == lik]
            if ev.empty:
                continue
            ys, cs = pp[var].values[0, i], pp[var].values[0, n + i]
            inverse = (lambda y: 1 / (1 + np.exp(-y))) if lik == "share" else np.exp
            for y, c, r in zip(ys, cs, ev.itertuples()):
                rows.append(_row(tmpl.loc[r.obs_id], r, _publish(r.mode, r.lo, r.hi, y, c, inverse,
                                                                  lik == "share"), seed, lik))
        datasets.append((pd.DataFrame(rows), truth))
    kinds = template.drop_duplicates("source_id").set_index("source_id")["source_kind"]
    sources = pd.DataFrame({
        "source_id": [f"SIM-{s}" for s in kinds.index], "title": "Simulated series",
        "author": "tgap simulate", "published": "2026", "url": "https://example.invalid/simulated",
        "archive_url": "", "kind": kinds.values, "affiliation": "", "notes": f"seed {seed}",
    })
    return datasets, sources, evidence


def _fmt_share(v: float) -> str:
    """Plain decimals, never an exponent (the quote must contain the figure as written)."""
    return f"{v:.6f}".rstrip("0").rstrip(".") or "0"


def _row(t: pd.Series, r, published: dict, seed: int, lik: str) -> dict:
    row = {c: t[c] for c in rules.OBS_COLUMNS if c in t.index}
    row.update(obs_id=r.obs_id, value=None, low=None, high=None,
               qualifier=t["qualifier"])  # "approx" kept: its extra noise is part of the draw
    row.update(published)
    row["source_id"] = f"SIM-{t['source_id']}"
    row["source_kind"] = t["source_kind"]
    row["origin_kind"] = t.get("origin_kind", "")
    if t["family"] == "donation" and t["unit"] == "organs":
        # an organs-donated row enters as a bound of the organs transplanted (units.py); the
        # simulated figure is a draw of that latent, so it is published as organs transplanted
        row["unit"] = "organs_transplanted"
    row["family"] = t["family"]
    row["quote_form"] = "digits"
    row["flag"] = t["flag"] if isinstance(t["flag"], str) else ""
    row["locator"] = f"simulated from {r.obs_id}"
    figs = [row[k] for k in ("value", "low", "high") if row.get(k) is not None]
    fmt = _fmt_share if lik == "share" else (lambda f: f"{int(f)}")
    row["quote"] = "Simulated figure: " + " to ".join(fmt(f) for f in figs)
    row["notes"] = f"simulated, seed {seed}"
    return row


def simulate(template: pd.DataFrame, scenario: Scenario, seed: int):
    """One synthetic dataset: (observations, sources, truth, template evidence)."""
    datasets, sources, evidence = simulate_many(template, scenario, seed, 1)
    obs, truth = datasets[0]
    return obs, sources, truth, evidence


def write_simulation(obs: pd.DataFrame, sources: pd.DataFrame, truth: pd.DataFrame, out: Path) -> None:
    """Write the simulated dataset in the data/raw schema plus truth.csv, through the one CSV
    writer (``analysis.io.csv_text``; raw-schema files are not neutralised, as tgap reads them
    as raw data) and as one step (``analysis.io.write_files``): every file is prepared before
    the first is renamed into place, so an error leaves ``out`` as it was."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    used = set(obs["source_id"])
    raw = {"neutralise_cells": False}
    texts = {out / rules.SOURCES_FILE: csv_text(sources[sources["source_id"].isin(used)], **raw)}
    if "origin" in obs:  # the template's origins, named by their ids (origins.csv schema)
        orig = obs[["origin", "origin_kind"]].drop_duplicates("origin").sort_values("origin")
        texts[out / rules.ORIGINS_FILE] = csv_text(pd.DataFrame({
            "id": orig["origin"], "name": orig["origin"], "kind": orig["origin_kind"],
            "affiliation": "", "notes": "simulated from the template"}), **raw)
    for family, (name, _) in rules.FAMILIES.items():
        f = obs[obs["family"] == family].reindex(columns=rules.OBS_COLUMNS)
        for col in ("value", "low", "high"):
            f[col] = f[col].map(lambda v: "" if v is None or pd.isna(v) else _fmt_share(v) if v < 1 else f"{int(v)}")
        texts[out / name] = csv_text(f, quoting=csv.QUOTE_MINIMAL, **raw)
    texts[out / "truth.csv"] = csv_text(truth.round(1), **raw)
    write_files(texts)
