"""Every number a compiled model needs, as named arrays: observations and scenario values alike.

``build.build_model`` turns each entry into ``pm.Data``; a model compiled for one scenario and
dataset serves any other with the same :func:`structure` by swapping these arrays in
(``nutpie``'s ``with_data``, ``pm.set_data``). What stays in the graph (the structure): which rows
exist and how they map to latent quantities and years, the year range, the bias/noise classes
present, and the distribution family of every prior.
"""

from __future__ import annotations

import json

import numpy as np

from analysis.model import reviewer
from analysis.model.evidence import QUANTITIES, Evidence
from analysis.model.priors import prior_inputs, vector_prior_inputs
from analysis.scenarios import Scenario
from analysis.scenarios.spec import GROUPS, LATENTS, ORGANS, TARGETS

CLASSES = [(t, g) for t in TARGETS for g in GROUPS]
FRACTIONS = (["all"] + [f"all:{o}" for o in ORGANS] + ["all:kidney_liver"]
             + [f"living:{o}" for o in ORGANS] + ["living:kidney_liver"])
SUPPLY = ["share_executed_used", "organs_per_executed", "organs_per_donor", "donor_report_inflation"]
VALUE_COLUMNS = ["lo", "hi", "value", "extra_sd", "noise_scale"]  # data, not structure


def design(evidence: Evidence, likelihood: str) -> dict:
    """Index arrays for the rows of one likelihood ("count" or "share")."""
    rows = evidence.rows
    rows = rows[rows["likelihood"] == likelihood] if not rows.empty else rows
    years = evidence.years
    n, t = len(rows), len(years)
    weights = np.zeros((n, t))
    for i, r in enumerate(rows.itertuples()):
        span = (years >= r.year) & (years <= r.year_end)
        weights[i, span] = 1.0 if r.cumulative else 1.0 / span.sum()
    q = rows["quantity"].map(QUANTITIES.index).to_numpy(int) if n else np.zeros(0, int)
    out = dict(rows=rows.reset_index(drop=True), weights=weights, q=q,
               lo=rows["lo"].to_numpy(float) if n else np.zeros(0),
               hi=rows["hi"].to_numpy(float) if n else np.zeros(0))
    if n:
        out["extra"] = rows["extra_sd"].to_numpy(float)
        out["is_bound"] = (rows["mode"] == "bound").to_numpy()
        out["is_point"] = (rows["mode"] == "point").to_numpy()
        # a bound carries its class's bias unless its kind is in evidence.rules.unbiased_bound_kinds
        # (evidence.py sets the row's "biased"): "more than 10,000 liver transplants (Mar 2005 -
        # May 2007)" is a claim of its class like any other, a count of confirmed executions is not
        biased = rows["biased"].astype(bool).to_numpy() if "biased" in rows else np.ones(n, bool)
        out["biased"] = biased | ~out["is_bound"]
        if not (out["lo"] == out["hi"])[out["is_point"]].all() or (out["lo"] >= out["hi"])[~out["is_point"]].any():
            raise ValueError(f"{likelihood} rows: a point row needs lo == hi, a censored row lo < hi")
    if likelihood == "count" and n:
        frac = [("all" if o == "all" else f"{p}:{o}") for o, p in zip(rows["organ"], rows["part_pool"])]
        out["frac"] = np.array([FRACTIONS.index(f) for f in frac], int)
        out["cls"] = np.array([CLASSES.index((t_, g)) for t_, g in zip(rows["target"], rows["group"])], int)
        out["scale"] = rows["noise_scale"].to_numpy(float)
        out["used"] = sorted(set(out["cls"].tolist()))  # classes with at least one row
        for part in ("bias", "noise"):  # a series' or origin's own bias / noise (reviewer.error_overrides)
            col = f"{part}_override"
            if col in rows and (rows[col] != "").any():
                labels = sorted(set(rows[col]) - {""})
                onehot = np.zeros((n, len(labels)))
                for i, label in enumerate(rows[col]):
                    if label:
                        onehot[i, labels.index(label)] = 1.0
                out[f"{col}_labels"], out[col] = labels, onehot
    if likelihood == "share" and n:
        out["den"] = rows["denominator"].map(QUANTITIES.index).to_numpy(int)
    return out


def donor_years(evidence: Evidence, scenario: Scenario) -> np.ndarray:
    return evidence.years[evidence.years >= int(scenario.get("declared.donation_start"))]


def _class_specs(scenario: Scenario, used: list[int], part: str) -> list[dict]:
    return [scenario.get(f"evidence.{CLASSES[c][0]}.{CLASSES[c][1]}.{part}") for c in used]


def override_specs(scenario: Scenario, cd: dict, part: str) -> list[dict]:
    return [reviewer.error_override_spec(scenario, label, part) for label in cd.get(f"{part}_override_labels", [])]


def drift_targets(scenario: Scenario) -> list[str]:
    """Targets whose class biases drift over the years (``evidence.rules.bias_drift_targets``)."""
    return list(scenario.get("evidence.rules.bias_drift_targets"))


def _has_drift(evidence: Evidence, scenario: Scenario) -> bool:
    cd = design(evidence, "count")
    return bool(len(cd["q"])) and any(CLASSES[c][0] in drift_targets(scenario) for c in cd["used"])


def prior_specs(evidence: Evidence, scenario: Scenario) -> dict[str, dict]:
    """Every scalar prior of the model by its variable name."""
    lat, sup = scenario.get("latent"), scenario.get("supply")
    out = {}
    for name in LATENTS:
        out[f"{name}_step"] = lat[name]["step"]
        out[f"{name}_init"] = lat[name]["init"]
    out |= {name: sup[name] for name in SUPPLY}
    out["prisoner_yield_step"] = sup["prisoner_yield_step"]
    out["donor_yield_step"] = sup["organs_per_donor_step"]
    if len(design(evidence, "share")["q"]):
        out["share_bias"] = scenario.get("evidence.shares.bias")
    if _has_drift(evidence, scenario):
        out["bias_step"] = scenario.get("evidence.rules.bias_step")
    return out


def model_inputs(evidence: Evidence, scenario: Scenario) -> dict[str, np.ndarray]:
    """Name -> array for every ``pm.Data`` of the model built on (evidence, scenario)."""
    out: dict[str, np.ndarray] = {}
    for name, spec in prior_specs(evidence, scenario).items():
        out |= prior_inputs(name, spec)
    for pool in ("all", "living"):
        out[f"organ_mix_{pool}__a"] = np.array([float(scenario.get(f"organ_mix.{pool}.{o}")) for o in ORGANS])
    out["max_organs_per_executed"] = np.asarray(float(scenario.get("supply.max_organs_per_executed")))
    until = int(scenario.get("declared.prisoner_source_until"))
    out["declared_prisoner_mask"] = (evidence.years <= until).astype(float)
    for source, fixed in sorted(evidence.fixed_supply.items()):  # scenario key fixed_supply
        out[f"fixed_supply_{source}"] = fixed["values"]
        out[f"fixed_supply_{source}_mask"] = fixed["mask"]
    cd, sd = design(evidence, "count"), design(evidence, "share")
    rules = scenario.get("evidence.rules")
    if len(cd["q"]):
        out |= {"count_lo": cd["lo"], "count_hi": cd["hi"], "count_extra": cd["extra"],
                "count_scale": cd["scale"],
                # 1 = the row enters the likelihood; 0 = left out without changing the compiled
                # structure (leave-one-origin-out refits, criticism.py)
                "count_weight": np.ones(len(cd["q"])),
                "lower_bound_softness": np.asarray(float(rules["lower_bound_softness"]))}
        out |= vector_prior_inputs("bias", _class_specs(scenario, cd["used"], "bias"))
        out |= vector_prior_inputs("noise", _class_specs(scenario, cd["used"], "noise"))
        for part in ("bias", "noise"):
            if f"{part}_override" in cd:
                out |= vector_prior_inputs(f"{part}_override", override_specs(scenario, cd, part))
    if len(sd["q"]):
        out |= {"share_lo": sd["lo"], "share_hi": sd["hi"], "share_extra": sd["extra"],
                "share_noise": np.asarray(float(scenario.get("evidence.shares.noise"))),
                "lower_bound_softness": np.asarray(float(rules["lower_bound_softness"]))}
    return out


def structure(evidence: Evidence, scenario: Scenario) -> str:
    """A canonical description of everything a compiled model depends on besides its inputs."""
    parts: dict = {"years": evidence.years.tolist(), "donor_years": donor_years(evidence, scenario).tolist(),
                   "families": {k: v["dist"] for k, v in prior_specs(evidence, scenario).items()}}
    for lik in ("count", "share"):
        d = design(evidence, lik)
        keep = [c for c in ("obs_id", "quantity", "denominator", "target", "group", "organ",
                            "part_pool", "mode", "kind", "biased", "bias_override", "noise_override")
                if c in d["rows"].columns]
        parts[lik] = {"rows": d["rows"][keep].astype(str).values.tolist(),
                      "weights": d["weights"].tolist()}
        if lik == "count" and len(d["q"]):
            for part in ("bias", "noise"):
                parts[f"{part}_families"] = [s["dist"] for s in _class_specs(scenario, d["used"], part)]
                if f"{part}_override" in d:
                    parts[f"{part}_override_families"] = [s["dist"] for s in override_specs(scenario, d, part)]
    parts["drift_targets"] = sorted(drift_targets(scenario))
    parts["inputs"] = {k: list(np.shape(v)) for k, v in sorted(model_inputs(evidence, scenario).items())}
    return json.dumps(parts, sort_keys=True)
