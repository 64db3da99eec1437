"""Synthetic datasets drawn from the model's own generative process.

A template (the shipped observations) fixes the structure: which series, years, kinds and
qualifiers exist. One prior draw gives the latent truth (volume, supply, gap by year) and a
replicated report for every likelihood row; the reports are written back in the data/raw schema
(``tgap check`` passes on them) with ``truth.csv`` beside them.

How censored rows are published: a figure reported "over X" gets X a little below the drawn
report, "under X" a little above; a range brackets it; a recorded minimum lies below the latent
truth and a capacity figure above it. The likelihood only uses the bound, so these choices lose
information but never contradict the draw.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data import rules
from analysis.model.build import build_model
from analysis.model.evidence import INF, Evidence, build_evidence
from analysis.scenarios import Scenario


def _round_count(x: float) -> float:
    return float(max(1, int(round(x))))


def _publish(mode: str, lo: float, hi: float, y: float, rng, inverse, is_share: bool) -> dict:
    """value / low / high / qualifier / kind-override for one simulated row."""
    r = (lambda x: round(float(x), 4)) if is_share else _round_count
    if mode == "point":
        return {"value": r(inverse(y))}
    if mode == "bound":
        if hi >= INF:  # recorded minimum, below the truth
            return {"value": r(inverse(y - abs(rng.normal(0, 0.5))))}
        return {"value": r(inverse(y + abs(rng.normal(0, 0.5))))}
    if lo <= -INF:
        return {"value": r(inverse(y + abs(rng.normal(0, 0.2)))), "qualifier": "under"}
    if hi >= INF:
        return {"value": r(inverse(y - abs(rng.normal(0, 0.2)))), "qualifier": "over"}
    return {"value": None, "low": r(inverse(y - rng.uniform(0.1, 0.4))),
            "high": r(inverse(y + rng.uniform(0.1, 0.4)))}


def simulate_many(template: pd.DataFrame, scenario: Scenario, seed: int, n: int):
    """n synthetic datasets from n prior draws: list of (observations, truth); plus sources."""
    import pymc as pm

    evidence = build_evidence(template, scenario)
    model = build_model(evidence, scenario)
    with model:
        draw = pm.sample_prior_predictive(draws=n, random_seed=seed)
    prior, pp = draw.prior, draw.prior_predictive
    rng = np.random.default_rng(seed)
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
            ys = pp[var].values[0, i]
            inverse = (lambda y: 1 / (1 + np.exp(-y))) if lik == "share" else np.exp
            for y, r in zip(ys, ev.itertuples()):
                rows.append(_row(tmpl.loc[r.obs_id], r, _publish(r.mode, r.lo, r.hi, y, rng, inverse,
                                                                  lik == "share"), seed, lik))
        datasets.append((pd.DataFrame(rows), truth))
    kinds = template.drop_duplicates("source_id").set_index("source_id")["source_kind"]
    sources = pd.DataFrame({
        "source_id": [f"SIM-{s}" for s in kinds.index], "title": "Simulated series",
        "author": "tgap simulate", "published": "2026", "url": "https://example.invalid/simulated",
        "archive_url": "", "kind": kinds.values, "affiliation": "", "notes": f"seed {seed}",
    })
    return datasets, sources, evidence


def _row(t: pd.Series, r, published: dict, seed: int, lik: str) -> dict:
    row = {c: t[c] for c in rules.OBS_COLUMNS if c in t.index}
    row.update(obs_id=r.obs_id, value=None, low=None, high=None,
               qualifier=t["qualifier"])  # "approx" kept: its extra noise is part of the draw
    row.update(published)
    row["source_id"] = f"SIM-{t['source_id']}"
    row["source_kind"] = t["source_kind"]
    row["family"] = t["family"]
    row["quote_form"] = "digits"
    row["flag"] = t["flag"] if isinstance(t["flag"], str) else ""
    row["locator"] = f"simulated from {r.obs_id}"
    figs = [row[k] for k in ("value", "low", "high") if row.get(k) is not None]
    fmt = (lambda f: f"{f:g}") if lik == "share" else (lambda f: f"{int(f)}")
    row["quote"] = "Simulated figure: " + " to ".join(fmt(f) for f in figs)
    row["notes"] = f"simulated, seed {seed}"
    return row


def simulate(template: pd.DataFrame, scenario: Scenario, seed: int):
    """One synthetic dataset: (observations, sources, truth, template evidence)."""
    datasets, sources, evidence = simulate_many(template, scenario, seed, 1)
    obs, truth = datasets[0]
    return obs, sources, truth, evidence


def write_simulation(obs: pd.DataFrame, sources: pd.DataFrame, truth: pd.DataFrame, out: Path) -> None:
    """Write the simulated dataset in the data/raw schema plus truth.csv."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    used = set(obs["source_id"])
    sources[sources["source_id"].isin(used)].to_csv(out / rules.SOURCES_FILE, index=False, lineterminator="\n")
    for family, (name, _) in rules.FAMILIES.items():
        f = obs[obs["family"] == family].reindex(columns=rules.OBS_COLUMNS)
        for col in ("value", "low", "high"):
            f[col] = f[col].map(lambda v: "" if v is None or pd.isna(v) else f"{v:g}" if v < 1 else f"{int(v)}")
        f.to_csv(out / name, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    truth.round(1).to_csv(out / "truth.csv", index=False, lineterminator="\n")


def evidence_arrays(evidence: Evidence) -> dict:
    """The observed arrays of a model built on ``evidence`` (for swapping data into a compiled model)."""
    from analysis.model.build import design

    out = {}
    for lik in ("count", "share"):
        d = design(evidence, lik)
        if len(d["q"]):
            out[f"{lik}_lo"], out[f"{lik}_hi"] = d["lo"], d["hi"]
    return out
