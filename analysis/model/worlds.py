"""Synthetic datasets from worlds that are *not* the baseline model (issue 14).

Each world is a story of how the yearly truth (volume, executions, donors, living donors, organs
per executed person and per donor) came about and of how sources reported it. Its parameters
live in ``analysis/scenarios/worlds/<name>.toml`` (validated like scenario files: an unknown key
is refused naming the file and the key). A world writes a dataset in exactly the structure of the
template rows that enter the baseline (same obs_ids, years, series, kinds, source kinds; count
rows keep point vs censored), published with the rules of ``analysis.model.simulate`` (its
``_publish``/``_row``/``write_simulation``), so one compiled model fits every world's datasets
(``build_evidence(obs, scenario, only=template_ids)``).

Worlds (docs in each TOML file):

- ``baseline``: the baseline's own prior (``simulate.simulate_many``).
- ``official``: the official narrative is true: every yearly gap is 0; organs per executed
  person rise from ``organs_per_executed.start`` to ``.end`` as the narrative needs.
- ``hidden_volume``: a true volume of 60,000-100,000 a year in 2006-2016; official volume figures
  follow a flat formula near 10,000 a year (copied with tiny noise); donors a quadratic in time.
- ``inflated_donors``: reported donors = true x k; reported organs per donor drift upward.
- ``relays``: rows measuring the same quantity and years carry one claim's figure, each relay
  rounding it and switching "exact"/"about".

Truth per year (``truth.csv``): volume, supply, gap and the components listed in ``TRUTH``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.model.evidence import QUANTITIES, Evidence, build_evidence
from analysis.model.inputs import FRACTIONS, design
from analysis.model.simulate import _publish, _row, simulate_many
from analysis.scenarios import SCENARIO_DIR, Scenario, ScenarioError, validate_tree
from analysis.scenarios.spec import GROUPS, ORGANS, PRIOR, TARGETS, Leaf, MapOf

WORLD_DIR = SCENARIO_DIR / "worlds"
WORLDS = ("baseline", "official", "hidden_volume", "inflated_donors", "relays")
TRUTH = ["year", "volume", "supply", "gap", "deceased_volume", "living", "executions", "donors",
         "donors_reported", "organs_per_donor", "organs_per_executed", "prisoner_capacity",
         "prisoner_declared", "donor_organs", "prisoner_organs"]

_NUM = Leaf("nonneg_float")
_COMMON = {
    "name": Leaf("str"), "description": Leaf("str"), "generator": Leaf("choice", WORLDS),
    "executions": {"start": PRIOR, "annual_change": PRIOR, "noise": _NUM},
    "living": {"start": PRIOR, "annual_change": PRIOR, "noise": _NUM},
    "donors": {"cap": PRIOR, "midpoint": PRIOR, "scale": PRIOR},
    "organs_per_donor": {"start": PRIOR, "annual_change": PRIOR},
    "organs_per_executed": {"start": PRIOR, "end": PRIOR},
    "reports": MapOf({"bias": PRIOR, "noise": _NUM}),
    "shares": {"noise": _NUM},
}
REPORT_CLASSES = ["default"] + [f"{t}_{g}" for t in TARGETS for g in GROUPS]
SPECS: dict[str, dict] = {
    "baseline": {"name": Leaf("str"), "description": Leaf("str"), "generator": Leaf("choice", WORLDS),
                 "scenario": Leaf("str")},
    "official": dict(_COMMON),
    "hidden_volume": _COMMON | {
        "hidden": {"start": Leaf("int"), "end": Leaf("int"), "level": PRIOR, "wobble": _NUM,
                   "ramp_years": Leaf("pos_int")},
        "official_volume": {"level": PRIOR, "noise": _NUM, "band": Leaf("prob"),
                            "before": PRIOR, "growth_after": PRIOR},
        "donors_quadratic": {"intercept": PRIOR, "linear": PRIOR, "quadratic": PRIOR,
                             "until": Leaf("int")},
    },
    "inflated_donors": _COMMON | {"inflation": {"k": PRIOR, "reported_yield_change": PRIOR}},
    "relays": _COMMON | {"relays": {"excess": PRIOR, "sig_figs": Leaf("pos_int"),
                                    "approx_share": Leaf("prob")}},
}


@dataclass
class World:
    name: str
    data: dict
    file: Path

    def get(self, dotted: str):
        node = self.data
        for part in dotted.split("."):
            node = node[part]
        return node


def available_worlds() -> dict[str, Path]:
    return {p.stem: p for p in sorted(WORLD_DIR.glob("*.toml"))}


def load_world(ref: str | Path) -> World:
    """A world by name (analysis/scenarios/worlds/NAME.toml) or by path, validated.
    Raises ScenarioError (FILE: KEY: problem; allowed: ...)."""
    ref = str(ref)
    path = Path(ref) if (ref.endswith(".toml") or "/" in ref) else WORLD_DIR / f"{ref}.toml"
    if not path.is_file():
        raise ScenarioError(ref, "", "no such world; allowed worlds: " + ", ".join(WORLDS))
    try:
        with open(path, "rb") as fh:
            tree = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(path.name, "", f"not a valid TOML file: {exc}") from None
    gen = tree.get("generator")
    if gen not in SPECS:
        raise ScenarioError(path.name, "generator", f"expected one of {', '.join(WORLDS)}, found {gen!r}")
    validate_tree(tree, SPECS[gen], path.name, "", required=True)
    for key in tree.get("reports", {}):
        if key not in REPORT_CLASSES:
            raise ScenarioError(path.name, f"reports.{key}", "unknown report class; allowed: "
                                + ", ".join(REPORT_CLASSES))
    if "reports" in tree and "default" not in tree["reports"]:
        raise ScenarioError(path.name, "reports.default", "missing key (the class every other class falls back to)")
    return World(tree["name"], tree, path)


# ---- drawing ------------------------------------------------------------------------------

def draw(spec: dict, rng: np.random.Generator, size=None):
    """One draw (or ``size`` draws) from a prior table of the scenario format."""
    d = spec["dist"]
    if d == "Fixed":
        return np.full(size, float(spec["value"])) if size else float(spec["value"])
    f = {"Normal": lambda: rng.normal(spec["mu"], spec["sigma"], size),
         "LogNormal": lambda: rng.lognormal(spec["mu"], spec["sigma"], size),
         "HalfNormal": lambda: np.abs(rng.normal(0.0, spec["sigma"], size)),
         "Beta": lambda: rng.beta(spec["alpha"], spec["beta"], size),
         "Gamma": lambda: rng.gamma(spec["alpha"], 1.0 / spec["beta"], size),
         "Uniform": lambda: rng.uniform(spec["lower"], spec["upper"], size)}[d]
    return f()


def _walk(cfg: dict, years: np.ndarray, rng) -> np.ndarray:
    """start x exp(annual_change x (t - t0) + a Gaussian random walk of step ``noise``)."""
    s = years - years[0]
    noise = np.concatenate([[0.0], np.cumsum(rng.normal(0, cfg["noise"], len(years) - 1))])
    return draw(cfg["start"], rng) * np.exp(draw(cfg["annual_change"], rng) * s + noise)


def _common_truth(world: World, years: np.ndarray, scenario: Scenario, rng) -> dict:
    """Executions, living donors, genuine donors and yields shared by the worlds' stories."""
    start_d = int(scenario.get("declared.donation_start"))
    until = int(scenario.get("declared.prisoner_source_until"))
    d = world.get("donors")
    cap, mid, scale = draw(d["cap"], rng), draw(d["midpoint"], rng), draw(d["scale"], rng)
    donors = np.where(years >= start_d, cap / (1 + np.exp(-(years - mid) / scale)), 0.0)
    y = world.get("organs_per_donor")
    y_d = draw(y["start"], rng) * np.exp(draw(y["annual_change"], rng) * np.maximum(years - start_d, 0))
    c = world.get("organs_per_executed")
    c0, c1 = draw(c["start"], rng), draw(c["end"], rng)
    frac = np.clip((years - years[0]) / max(until - years[0], 1), 0, 1)
    return dict(executions=_walk(world.get("executions"), years, rng),
                living=_walk(world.get("living"), years, rng), donors=donors,
                organs_per_donor=np.where(years >= start_d, y_d, 0.0),
                organs_per_executed=c0 + (c1 - c0) * frac,
                declared_mask=(years <= until).astype(float))


def _finish(t: dict, years: np.ndarray, deceased: np.ndarray) -> pd.DataFrame:
    """The truth table from the components and the true deceased-donor volume."""
    cap = t["executions"] * t["organs_per_executed"]
    donor_organs = t["donors"] * t["organs_per_donor"]
    volume = deceased + t["living"]
    supply = cap * t["declared_mask"] + donor_organs + t["living"]
    return pd.DataFrame({
        "year": years, "volume": volume, "supply": supply, "gap": volume - supply,
        "deceased_volume": deceased, "living": t["living"], "executions": t["executions"],
        "donors": t["donors"], "donors_reported": t.get("donors_reported", t["donors"]),
        "organs_per_donor": t["organs_per_donor"], "organs_per_executed": t["organs_per_executed"],
        "prisoner_capacity": cap, "prisoner_declared": cap * t["declared_mask"],
        "donor_organs": donor_organs, "prisoner_organs": np.minimum(cap, deceased)})


def _quantities(truth: pd.DataFrame, donor_organs_reported: np.ndarray | None = None) -> np.ndarray:
    """The model's measured quantities (evidence.QUANTITIES) by year, from a truth table."""
    q = {"volume": truth["volume"], "deceased_volume": truth["deceased_volume"],
         "living": truth["living"], "executions": truth["executions"],
         "donors_reported": truth["donors_reported"],
         "donor_organs_reported": (truth["donor_organs"] if donor_organs_reported is None
                                   else donor_organs_reported),
         "prisoner_organs": truth["prisoner_organs"]}
    return np.vstack([np.asarray(q[k], float) for k in QUANTITIES])


def world_official(world, years, scenario, rng):
    t = _common_truth(world, years, scenario, rng)
    deceased = t["executions"] * t["organs_per_executed"] * t["declared_mask"] + t["donors"] * t["organs_per_donor"]
    truth = _finish(t, years, deceased)
    return truth, _quantities(truth), None


def world_hidden_volume(world, years, scenario, rng):
    t = _common_truth(world, years, scenario, rng)
    start_d = int(scenario.get("declared.donation_start"))
    q = world.get("donors_quadratic")
    s = np.maximum(years - start_d, 0)
    s = np.minimum(s, q["until"] - start_d)  # flat after donors_quadratic.until
    t["donors"] = np.where(years >= start_d, np.maximum(
        draw(q["intercept"], rng) + draw(q["linear"], rng) * s + draw(q["quadratic"], rng) * s ** 2, 1.0), 0.0)
    h, o = world.get("hidden"), world.get("official_volume")
    a, b, ramp = h["start"], h["end"], h["ramp_years"]
    level_off, before, growth = draw(o["level"], rng), draw(o["before"], rng), draw(o["growth_after"], rng)
    official = np.where(years < a, before * (level_off / before) ** np.clip((years - years[0]) / max(a - years[0], 1), 0, 1),
                        np.where(years <= b, level_off, level_off * np.exp(growth * (years - b))))
    official = official * np.exp(rng.normal(0, o["noise"], len(years)) * ((years >= a) & (years <= b)))
    hidden = draw(h["level"], rng) * np.exp(rng.normal(0, h["wobble"], len(years)))
    weight = np.clip(1 - np.maximum(a - years, years - b) / ramp, 0, 1)  # 1 inside, ramps outside
    volume = np.maximum(official, official + weight * (hidden - official))
    truth = _finish(t, years, np.maximum(volume - t["living"], 1.0))
    truth["official_volume"] = official
    narrative = truth.copy()  # what official sources describe: the formula, all declared
    narrative["volume"] = official
    narrative["deceased_volume"] = np.maximum(official - truth["living"], 1.0)
    narrative["prisoner_organs"] = np.maximum(narrative["deceased_volume"] - truth["donor_organs"], 1.0)
    return truth, _quantities(truth), _quantities(narrative)


def world_inflated_donors(world, years, scenario, rng):
    t = _common_truth(world, years, scenario, rng)
    start_d = int(scenario.get("declared.donation_start"))
    k = draw(world.get("inflation.k"), rng)
    change = draw(world.get("inflation.reported_yield_change"), rng)
    y_rep = t["organs_per_donor"] * np.exp(change * np.maximum(years - start_d, 0))
    t["donors_reported"] = k * t["donors"]
    claimed = t["donors_reported"] * y_rep  # organs the reported donors are said to have given
    deceased = t["executions"] * t["organs_per_executed"] * t["declared_mask"] + claimed
    truth = _finish(t, years, deceased)
    truth["k"] = k
    truth["organs_per_donor_reported"] = np.where(years >= start_d, y_rep, 0.0)
    return truth, _quantities(truth, claimed), None


def world_relays(world, years, scenario, rng):
    t = _common_truth(world, years, scenario, rng)
    supply_deceased = t["executions"] * t["organs_per_executed"] * t["declared_mask"] + t["donors"] * t["organs_per_donor"]
    excess = draw(world.get("relays.excess"), rng)
    deceased = supply_deceased + excess * (supply_deceased + t["living"])
    truth = _finish(t, years, deceased)
    return truth, _quantities(truth), None


GENERATORS = {"official": world_official, "hidden_volume": world_hidden_volume,
              "inflated_donors": world_inflated_donors, "relays": world_relays}


# ---- publishing ---------------------------------------------------------------------------

def _fracs(scenario: Scenario) -> np.ndarray:
    """Organ fractions in inputs.FRACTIONS order: the means of the scenario's organ mixes."""
    out = {"all": 1.0}
    for pool in ("all", "living"):
        a = np.array([float(scenario.get(f"organ_mix.{pool}.{o}")) for o in ORGANS])
        m = a / a.sum()
        out |= {f"{pool}:{o}": m[i] for i, o in enumerate(ORGANS)} | {f"{pool}:kidney_liver": m[0] + m[1]}
    return np.array([out[f] for f in FRACTIONS])


def _report_class(world: World, target: str, group: str) -> dict:
    reps = world.get("reports")
    return reps.get(f"{target}_{group}", reps["default"])


def _sig(x: float, figs: int) -> float:
    return float(max(1, round(x, figs - 1 - int(np.floor(np.log10(abs(x)))))))


def publish_world(world: World, template: pd.DataFrame, ev: Evidence, scenario: Scenario,
                  truth: pd.DataFrame, q_true: np.ndarray, q_narr: np.ndarray | None, seed: int,
                  rng) -> pd.DataFrame:
    """The published rows of one dataset: count rows (and tested share rows) of the template."""
    tmpl = template.set_index("obs_id")
    cd = design(ev, "count")
    rows_df = cd["rows"]
    fr = _fracs(scenario)
    narrative = q_narr is not None
    biases = {}
    for t_ in TARGETS:
        for g in GROUPS:
            biases[(t_, g)] = draw(_report_class(world, t_, g)["bias"], rng)
    ys, cs, claim_of = [], [], {}
    relays = world.get("relays") if world.data["generator"] == "relays" else None
    claim_draw: dict = {}
    for i, r in enumerate(rows_df.itertuples()):
        q = q_narr if (narrative and r.group == "official") else q_true
        measured = float(cd["weights"][i] @ q[cd["q"][i]]) * fr[cd["frac"][i]]
        rc = _report_class(world, r.target, r.group)
        bias = biases[(r.target, r.group)] if cd["biased"][i] else 0.0
        sd = float(rc["noise"])  # the world's noise, not the model's (flags, "about", organ parts)
        key = (r.quantity, r.year, r.year_end, r.organ, r.target)
        claim_of[r.obs_id] = "|".join(map(str, key))
        if relays is not None and key in claim_draw:  # a relay: the claim's own figure
            y, c = claim_draw[key]
        else:
            base = np.log(max(measured, 1e-9)) + bias
            y, c = base + rng.normal(0, sd), base + rng.normal(0, sd)
            claim_draw[key] = (y, c)
        ys.append(y)
        cs.append(c)
    out = []
    for r, y, c in zip(rows_df.itertuples(), ys, cs):
        pub = _publish(r.mode, r.lo, r.hi, y, c, np.exp, False)
        row = _row(tmpl.loc[r.obs_id], r, pub, seed, "count")
        if relays is not None and r.mode == "point":
            row["value"] = _sig(row["value"], relays["sig_figs"] + int(rng.integers(0, 2)))
            row["qualifier"] = "approx" if rng.random() < relays["approx_share"] else "exact"
            row["quote"] = f"Simulated figure: {int(row['value'])}"
        row["claim"] = claim_of[r.obs_id]
        out.append(row)
    out += _publish_shares(world, template, ev, truth, q_true, q_narr, seed, rng)
    return pd.DataFrame(out)


def _publish_shares(world, template, ev, truth, q_true, q_narr, seed, rng) -> list[dict]:
    """Tested share statements: the share of the world's truth, or of the official narrative
    for official sources where the world has one (outside the baseline's likelihood)."""
    if ev.tested is None or ev.tested.empty:
        return []
    tmpl = template.set_index("obs_id")
    sd = design(Evidence(ev.years, ev.tested, ev.excluded), "share")
    noise = world.get("shares.noise")
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    out = []
    for i, r in enumerate(sd["rows"].itertuples()):
        q = q_narr if (q_narr is not None and r.group == "official") else q_true
        num = float(sd["weights"][i] @ q[sd["q"][i]])
        den = float(sd["weights"][i] @ q[sd["den"][i]])
        p = float(np.clip(num / den, 0.005, 0.995))
        base = np.log(p / (1 - p))
        y, c = base + rng.normal(0, noise), base + rng.normal(0, noise)
        row = _row(tmpl.loc[r.obs_id], r, _publish(r.mode, r.lo, r.hi, y, c, sig, True), seed, "share")
        row["claim"] = ""
        out.append(row)
    return out


def generate(world: World, template: pd.DataFrame, scenario: Scenario, seed: int, n: int):
    """n datasets of a world: (list of (observations, truth), sources, template evidence).
    Observations carry a ``claim`` column (the claim a row relays; not written to the raw files)."""
    if world.data["generator"] == "baseline":  # the prior of the scenario the world names
        from analysis.scenarios import load_scenario

        own = scenario if scenario.name == world.data["scenario"] else load_scenario(world.data["scenario"])
        datasets, sources, ev = simulate_many(template, own, seed, n)
        return [(o.assign(claim=""), t) for o, t in datasets], sources, ev
    ev = build_evidence(template, scenario)
    rng = np.random.default_rng(seed)
    gen = GENERATORS[world.data["generator"]]
    datasets = []
    for _ in range(n):
        truth, q_true, q_narr = gen(world, ev.years, scenario, rng)
        obs = publish_world(world, template, ev, scenario, truth, q_true, q_narr, seed, rng)
        datasets.append((obs, truth))
    kinds = template.drop_duplicates("source_id").set_index("source_id")["source_kind"]
    sources = pd.DataFrame({
        "source_id": [f"SIM-{s}" for s in kinds.index], "title": f"Simulated series (world {world.name})",
        "author": "tgap simulate", "published": "2026", "url": "https://example.invalid/simulated",
        "archive_url": "", "kind": kinds.values, "affiliation": "", "notes": f"world {world.name}, seed {seed}",
    })
    return datasets, sources, ev
