"""What a scenario file may contain: every key, its type and its allowed values.

Nothing here is a default: the baseline scenario must set every key, and other scenarios
inherit from it with ``extends``. This module only says what is *allowed*.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

DISTRIBUTIONS: dict[str, dict[str, str]] = {
    # dist -> {param: constraint}
    "Normal": {"mu": "real", "sigma": "positive"},
    "LogNormal": {"mu": "real", "sigma": "positive"},
    "HalfNormal": {"sigma": "positive"},
    "Beta": {"alpha": "positive", "beta": "positive"},
    "Gamma": {"alpha": "positive", "beta": "positive"},
    "Uniform": {"lower": "real", "upper": "real"},
    "Fixed": {"value": "real"},
}


@dataclass(frozen=True)
class Leaf:
    kind: str  # str | int | float | pos_float | pos_int | bool | prior | prior_or_number | year_or_latest | periods | choice | str_list
    choices: tuple = ()
    optional: bool = False

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "prior":
            return "a prior table {dist = ..., <params>}; dist one of " + ", ".join(DISTRIBUTIONS)
        if self.kind == "prior_or_number":
            return ("a number (a fixed value) or a prior table {dist = ..., <params>}; dist one of "
                    + ", ".join(DISTRIBUTIONS))
        return {
            "str": "a string", "int": "an integer", "float": "a number", "pos_float": "a number > 0",
            "pos_int": "an integer > 0", "bool": "true or false", "year_or_latest": 'a year or "latest"',
            "periods": 'a list of [start, end] pairs (years or "latest")', "str_list": "a list of strings",
            "nonneg_float": "a number >= 0", "prob": "a number in [0, 1]",
            "year_pair": "a [start, end] pair of years",
        }[self.kind]


@dataclass(frozen=True)
class MapOf:
    """A table whose keys are free (e.g. flag names), each value following ``spec``."""

    spec: dict


PRIOR = Leaf("prior")
TARGETS = ["volume", "executions", "donors", "living"]
GROUPS = ["official", "international", "independent"]
ORGANS = ["kidney", "liver", "heart", "lung", "other"]
LATENTS = ["deceased_volume", "executions", "donors", "living"]
# how official statements of source shares enter (docs/model.md, "Composition claims"):
# tested = compared with the counts, outside the likelihood; evidence = in the likelihood (the
# pre-2026-12 reading, kept for comparison); exclude = left out
SHARE_ROLES = ("tested", "evidence", "exclude")

# row kinds, units and qualifiers a row override may set (analysis/data/domain.py)
# (the lists of analysis/data/rules.py; tests/test_replication.py checks they agree)
ROW_KINDS = ("reported", "estimate", "capacity", "lower_bound", "upper_bound", "cumulative")
ROW_UNITS = ("transplants", "recipients", "organs_transplanted", "organs", "donors", "executions", "share")
ROW_QUALIFIERS = ("exact", "approx", "over", "under")
FIXED_SOURCES = ("all", "prisoners", "donors", "living")
# what a replication headline is compared with: the period sum of the organs not explained
# (per draw, sum of max(gap, 0)), of the signed gap, or the mean yearly volume over the years
REPLICATION_QUANTITIES = ("not_explained", "signed_gap", "volume_per_year")

_evidence_class = {"include": Leaf("bool"), "bias": PRIOR, "noise": PRIOR}
# A series' or origin's own bias and/or noise in place of its class's (evidence.series_overrides,
# evidence.origin_overrides; reviewer.error_overrides): a prior table, or a number = Fixed at it
ERROR_PARTS = ("bias", "noise")
ERROR_OVERRIDE_KEYS = {"series_overrides": "series", "origin_overrides": "origin"}
_error_override = MapOf({"bias": Leaf("prior_or_number", optional=True),
                         "noise": Leaf("prior_or_number", optional=True), "note": Leaf("str", optional=True)})


def as_prior(value) -> dict:
    """A prior table from a ``prior_or_number`` value (a number is a point mass: Fixed at it)."""
    return value if isinstance(value, dict) else {"dist": "Fixed", "value": float(value)}

SPEC: dict[str, Any] = {
    "name": Leaf("str"),
    "description": Leaf("str"),
    "extends": Leaf("str", optional=True),
    "years": {"start": Leaf("int"), "end": Leaf("year_or_latest"), "periods": Leaf("periods")},
    "declared": {"prisoner_source_until": Leaf("int"), "donation_start": Leaf("int")},
    "latent": {q: {"init": PRIOR, "step": PRIOR} for q in LATENTS},
    "supply": {
        "share_executed_used": PRIOR, "organs_per_executed": PRIOR, "organs_per_donor": PRIOR,
        "donor_report_inflation": PRIOR,
        "max_organs_per_executed": Leaf("pos_float"), "prisoner_yield_step": PRIOR,
        "organs_per_donor_step": PRIOR,
    },
    "organ_mix": {g: {o: Leaf("pos_float") for o in ORGANS} for g in ["all", "living"]},
    "evidence": {
        **{t: {g: dict(_evidence_class) for g in GROUPS} for t in TARGETS},
        "shares": {"role": Leaf("choice", SHARE_ROLES), "bias": PRIOR, "noise": Leaf("pos_float")},
        **{key: _error_override for key in ERROR_OVERRIDE_KEYS},
        "rules": {
            "capacity_as": Leaf("choice", ("upper_bound", "estimate", "exclude")),
            "lower_bound_softness": Leaf("pos_float"),
            "approx_extra_sd": Leaf("nonneg_float"),
            "part_extra_sd": Leaf("nonneg_float"),
            "range_as_interval": Leaf("bool"),
            "partial_year_as": Leaf("choice", ("lower_bound", "exclude")),
            "collapse_repeats": Leaf("bool"),
            "exclude_flags": Leaf("str_list"),
            "exclude_series": Leaf("str_list"),
            "exclude_sources": Leaf("str_list"),
            "bias_step": PRIOR,
            "unbiased_bound_kinds": Leaf("str_list"),
            "bias_drift_targets": Leaf("str_list"),
            "exclude_source_kinds": Leaf("str_list"),
            "organs_donated_as": Leaf("choice", ("upper_bound", "as_transplanted", "exclude")),
            # include-only lists ([] = every row) beside the exclude lists; names are checked
            # against the data when the evidence is built (evidence.check_names)
            "include_series": Leaf("str_list"),
            "include_sources": Leaf("str_list"),
            "include_origins": Leaf("str_list"),
            "exclude_origins": Leaf("str_list"),
            "exclude_organs": Leaf("str_list"),
            # recorded minimums (kind lower_bound) read as point counts of their class (with its
            # bias and noise) instead of one-sided bounds (evidence._bounds)
            "minimums_as_counts": Leaf("bool"),
        },
    },
    # Row overrides: re-read a data row from the scenario, by obs_id, without editing data/raw
    # (evidence.apply_overrides; shown in the manifest and the report's assumptions)
    "overrides": MapOf({
        "year": Leaf("int", optional=True), "year_end": Leaf("int", optional=True),
        "kind": Leaf("choice", ROW_KINDS, optional=True), "unit": Leaf("choice", ROW_UNITS, optional=True),
        "qualifier": Leaf("choice", ROW_QUALIFIERS, optional=True), "reason": Leaf("str"),
    }),
    # A declared source's size given directly, over [years]: per_year organs a year, or total over
    # the years (spread evenly), or the level of a data row (from_obs: its value per year of the row,
    # applied to every year of [years]); source: which declared source it replaces (all = the whole
    # declared supply). Model: build.fixed_supply.
    "fixed_supply": MapOf({
        "source": Leaf("choice", FIXED_SOURCES), "years": Leaf("year_pair"),
        "per_year": Leaf("nonneg_float", optional=True), "total": Leaf("nonneg_float", optional=True),
        "from_obs": Leaf("str", optional=True), "note": Leaf("str", optional=True),
    }),
    # What a literature scenario should reproduce (tgap replicate): metadata, not a model input
    "replication": MapOf({
        "publication": Leaf("str"), "citation": Leaf("str"), "headline": Leaf("str"),
        "quantity": Leaf("choice", REPLICATION_QUANTITIES), "years": Leaf("year_pair"),
        "low": Leaf("nonneg_float", optional=True), "high": Leaf("nonneg_float", optional=True),
        "source_obs": Leaf("str_list"), "tolerance": Leaf("str"),
    }),
    "flags": MapOf({"include": Leaf("bool"), "noise_scale": Leaf("pos_float")}),
    "sampler": {
        "name": Leaf("choice", ("nutpie", "nutpie-jax", "pymc", "numpyro")),
        "chains": Leaf("pos_int"), "draws": Leaf("pos_int"), "tune": Leaf("pos_int"),
        "target_accept": Leaf("prob"), "seed": Leaf("int"),
        "mass_matrix": Leaf("choice", ("low_rank", "diagonal")),
        "quick": {"chains": Leaf("pos_int"), "draws": Leaf("pos_int"), "tune": Leaf("pos_int")},
    },
    "diagnostics": {
        "max_rhat": Leaf("pos_float"), "min_ess_bulk": Leaf("nonneg_float"),
        "min_ess_tail": Leaf("nonneg_float"), "max_divergences": Leaf("int"),
    },
}


# ---- what the model needs beyond types (checked on the resolved scenario) -----------------
# Each rule below is documented in docs/validation.md ("Scenarios") and applied by
# ``model_problems``; every problem is reported, not only the first.

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # a scenario name is a folder name under reports/
YEAR_RANGE = (1980, 2030)  # the years data/raw may hold (analysis/data/rules.py YEAR_MIN/YEAR_MAX)
SAMPLER_MAX = {"chains": 64, "draws": 100_000, "tune": 100_000}
SEED_MAX = 2**32 - 1
# prior parameters: a location within +-REAL_MAX, a scale or shape within POSITIVE_RANGE; wider
# values overflow exp() on the model's log scale (the latent volumes are exp of a random walk)
REAL_MAX = 50.0
POSITIVE_RANGE = (1e-4, 1e4)
# support of each prior: "unit" = a share in [0, 1], "positive" = a quantity > 0, "real" = any
UNIT_FAMILIES = ("Beta", "Uniform", "Fixed")
POSITIVE_FAMILIES = ("LogNormal", "Gamma", "HalfNormal", "Beta", "Uniform", "Fixed")


# step sds of the non-centred drifts (build._drift, the bias drift): Fixed 0 is allowed
DRIFT_STEPS = ("supply.prisoner_yield_step", "supply.organs_per_donor_step", "evidence.rules.bias_step")


def prior_support(key: str) -> str:
    """The support a prior at dotted ``key`` must have."""
    if key == "supply.share_executed_used":
        return "unit"
    if key.startswith("supply.") or key.endswith(".step") or key.endswith(".noise"):
        return "positive"
    return "real"


def _support_problem(key: str, spec: dict) -> str | None:
    support, dist = prior_support(key), spec["dist"]
    if support == "unit":
        if dist not in UNIT_FAMILIES:
            return (f"a share needs a distribution on [0, 1]; allowed: Beta, Uniform within [0, 1], "
                    f"Fixed in [0, 1]; found {dist}")
        lo, hi = (spec["lower"], spec["upper"]) if dist == "Uniform" else (spec.get("value"),) * 2
        if dist != "Beta" and not (0 <= lo and hi <= 1):
            return f"a share needs a distribution on [0, 1]; {dist} reaches outside it"
    if support == "positive":
        if dist not in POSITIVE_FAMILIES:
            return (f"a positive quantity needs a positive distribution; allowed: "
                    f"{', '.join(POSITIVE_FAMILIES)}; found {dist}")
        lo = spec["lower"] if dist == "Uniform" else spec.get("value", 1.0)
        if key in DRIFT_STEPS and dist == "Fixed" and lo == 0:
            return None  # a drift step sd of exactly 0: no drift (a constant yield or bias)
        if not lo > 0:
            return f"a positive quantity needs a positive distribution; {dist} reaches {lo} <= 0"
    if dist == "Fixed" and key.startswith("latent.") and key.endswith(".init"):
        return "the initial value of a random walk needs a distribution (Fixed is not allowed here)"
    return None


# Where the central 98% of each prior must lie, by role (the model works on the log scale: a
# latent's init is log(yearly count), bias a log ratio, step and noise standard deviations of log
# values, supply factors organs per person or a report ratio). Wider priors put the sampler's
# starting point where exp() overflows or a likelihood underflows to -inf.
ROLE_RANGES = {
    "log_level": (-5.0, 20.0),     # exp(20) ~ 5e8 organs a year
    "log_ratio": (-5.0, 5.0),      # a source off by a factor e^5 ~ 150 at most
    "sd": (1e-3, 5.0),             # a yearly change / reporting noise of 0.1% to ~150x
    "factor": (1e-3, 100.0),       # organs per person, reported / true donors
    "share": (0.0, 1.0),
}


def prior_role(key: str) -> str:
    if key == "supply.share_executed_used":
        return "share"
    if key.startswith("supply."):
        return "factor"
    if key.endswith(".step") or key.endswith(".noise"):
        return "sd"
    if key.endswith(".init"):
        return "log_level"
    return "log_ratio"


def central_interval(spec: dict) -> tuple[float, float]:
    """The 1% and 99% quantiles of a prior table (a Fixed value is both). Closed forms over
    scipy.special (scipy.stats costs ~1.5 s more to import on every command; the two agree,
    tests/test_scenario_validation.py)."""
    from scipy import special

    d = spec["dist"]
    if d == "Fixed":
        return spec["value"], spec["value"]
    g = spec.get
    quantile = {
        "Normal": lambda q: g("mu") + g("sigma") * special.ndtri(q),
        "LogNormal": lambda q: np.exp(g("mu") + g("sigma") * special.ndtri(q)),
        "HalfNormal": lambda q: g("sigma") * special.ndtri((1 + q) / 2),
        "Beta": lambda q: special.betaincinv(g("alpha"), g("beta"), q),
        "Gamma": lambda q: special.gammaincinv(g("alpha"), q) / g("beta"),
        "Uniform": lambda q: g("lower") + q * (g("upper") - g("lower")),
    }[d]
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an overflow gives inf, refused by the caller
        lo, hi = quantile(0.01), quantile(0.99)
    return float(lo), float(hi)


def _role_problem(key: str, spec: dict) -> str | None:
    if key in DRIFT_STEPS and spec == {"dist": "Fixed", "value": 0.0}:
        return None  # no drift
    role = prior_role(key)
    lo, hi = ROLE_RANGES[role]
    a, b = central_interval(spec)
    if not (lo <= a and b <= hi):
        return (f"98% of this prior lies in [{a:.4g}, {b:.4g}]; a prior for this key ({role.replace('_', ' ')}) "
                f"must lie within [{lo:g}, {hi:g}]")
    return None


def _param_problems(key: str, spec: dict) -> list[tuple[str, str]]:
    out = []
    for p, constraint in DISTRIBUTIONS[spec["dist"]].items():
        v = spec[p]
        if constraint == "positive" and not POSITIVE_RANGE[0] <= v <= POSITIVE_RANGE[1]:
            out.append((f"{key}.{p}", f"must be in [{POSITIVE_RANGE[0]:g}, {POSITIVE_RANGE[1]:g}], found {v!r}"))
        elif constraint == "real" and not abs(v) <= REAL_MAX:
            out.append((f"{key}.{p}", f"must be in [-{REAL_MAX:g}, {REAL_MAX:g}], found {v!r}"))
    return out


def _priors(tree: dict, prefix: str = ""):
    for k, v in tree.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and "dist" in v:
            yield key, v
        elif isinstance(v, dict):
            yield from _priors(v, key)


def _year(v, latest: float) -> float:
    return latest if v == "latest" else v


def _year_problems(data: dict) -> list[tuple[str, str]]:
    out = []
    lo, hi = YEAR_RANGE
    years, declared = data["years"], data["declared"]
    start, end = years["start"], years["end"]
    for key, v in (("years.start", start), ("years.end", end),
                   ("declared.donation_start", declared["donation_start"]),
                   ("declared.prisoner_source_until", declared["prisoner_source_until"])):
        if v != "latest" and not lo <= v <= hi:
            out.append((key, f"must be a year in {lo}-{hi}, found {v!r}"))
    if end != "latest" and start > end:
        out.append(("years.end", f"years.end = {end} is before years.start = {start}"))
    inf = float("inf")
    previous = None
    for i, (a, b) in enumerate(years["periods"]):
        key = f"years.periods[{i}]"
        if _year(a, inf) > _year(b, inf):
            out.append((key, f"period [{a}, {b}] ends before it starts"))
        if _year(a, inf) < start or _year(b, inf) > _year(end, inf):
            out.append((key, f"period [{a}, {b}] reaches outside years.start-years.end [{start}, {end}]"))
        if previous is not None and _year(a, inf) <= _year(previous, inf):
            out.append((key, f"periods must be in order and not overlap; [{a}, {b}] starts by {previous}"))
        previous = b
    return out


def _name_problems(data: dict) -> list[tuple[str, str]]:
    import re

    if isinstance(data["name"], str) and re.match(NAME_PATTERN, data["name"]):
        return []
    return [("name", f"{data['name']!r} is not a name: use letters, digits, '_', '.', '-' "
             f"(pattern {NAME_PATTERN}); it names the output folder under reports/")]


def _prior_problems(data: dict) -> list[tuple[str, str]]:
    out = []
    for key, spec in _priors(data):
        try:
            params = _param_problems(key, spec)
            problem = _support_problem(key, spec) or (None if params else _role_problem(key, spec))
            out += ([(key, problem)] if problem else []) + params
        except (KeyError, TypeError, ValueError):
            continue  # a malformed prior: its type problem is reported by the tree check
    return out


def _sampler_problems(data: dict) -> list[tuple[str, str]]:
    out = []
    sampler = data["sampler"]
    for part, node in (("sampler", sampler), ("sampler.quick", sampler["quick"])):
        for k, limit in SAMPLER_MAX.items():
            if node[k] > limit:
                out.append((f"{part}.{k}", f"must be at most {limit:,}, found {node[k]!r}"))
    if not 0 < sampler["target_accept"] < 1:
        out.append(("sampler.target_accept", f"must be in (0, 1), found {sampler['target_accept']!r}"))
    if not 0 <= sampler["seed"] <= SEED_MAX:
        out.append(("sampler.seed", f"must be in 0-{SEED_MAX}, found {sampler['seed']!r}"))
    return out


def _diagnostics_problems(data: dict) -> list[tuple[str, str]]:
    out = []
    diag = data["diagnostics"]
    if diag["max_divergences"] < 0:
        out.append(("diagnostics.max_divergences", f"must be >= 0, found {diag['max_divergences']!r}"))
    if diag["max_rhat"] < 1:
        out.append(("diagnostics.max_rhat", f"must be >= 1 (R-hat is never below 1), found {diag['max_rhat']!r}"))
    return out


# plain numbers the model uses as scales: organ mix concentrations, sds on the log/logit scale
SCALE_RANGES = {
    "organ_mix": (1e-2, 1e5),
    "evidence.shares.noise": (1e-3, 5.0),
    "evidence.rules.lower_bound_softness": (1e-3, 5.0),
    "evidence.rules.approx_extra_sd": (0.0, 5.0),
    "evidence.rules.part_extra_sd": (0.0, 5.0),
    "flags.*.noise_scale": (1e-3, 100.0),
}


def _scale_problems(data: dict) -> list[tuple[str, str]]:
    values = [(f"organ_mix.{g}.{o}", "organ_mix", v) for g, mix in data["organ_mix"].items() for o, v in mix.items()]
    values += [(k, k, data["evidence"][k.split(".")[1]][k.split(".")[2]]) for k in SCALE_RANGES if k.startswith("evidence.")]
    values += [(f"flags.{f}.noise_scale", "flags.*.noise_scale", c["noise_scale"])
               for f, c in data.get("flags", {}).items() if "noise_scale" in c]
    out = []
    for key, rule, v in values:
        lo, hi = SCALE_RANGES[rule]
        if not lo <= v <= hi:
            out.append((key, f"must be in [{lo:g}, {hi:g}], found {v!r}"))
    return out


def _entry_problems(data: dict) -> list[tuple[str, str]]:
    """Row overrides, fixed supplies and replication headlines: what the types cannot say."""
    out = []
    lo, hi = YEAR_RANGE
    for name, o in data.get("overrides", {}).items():
        if not set(o) - {"reason"}:
            out.append((f"overrides.{name}", "an override must set at least one of year, year_end, kind, "
                        "unit, qualifier"))
        for k in ("year", "year_end"):
            if k in o and not lo <= o[k] <= hi:
                out.append((f"overrides.{name}.{k}", f"must be a year in {lo}-{hi}, found {o[k]!r}"))
        if "year" in o and "year_end" in o and o["year_end"] < o["year"]:
            out.append((f"overrides.{name}.year_end", f"year_end {o['year_end']} is before year {o['year']}"))
    sources_years: dict[str, list] = {}
    for name, f in data.get("fixed_supply", {}).items():
        given = [k for k in ("per_year", "total", "from_obs") if k in f]
        if len(given) != 1:
            out.append((f"fixed_supply.{name}", "set exactly one of per_year, total, from_obs; found "
                        + (", ".join(given) or "none")))
        a, b = f["years"]
        if a > b:
            out.append((f"fixed_supply.{name}.years", f"[{a}, {b}] ends before it starts"))
        for other in sources_years.get(f["source"], []):
            if a <= other[1] and other[0] <= b:
                out.append((f"fixed_supply.{name}.years", f"overlaps another fixed_supply of source "
                            f"{f['source']!r} ({other[0]}-{other[1]})"))
        sources_years.setdefault(f["source"], []).append((a, b))
    for name, r in data.get("replication", {}).items():
        a, b = r["years"]
        if a > b:
            out.append((f"replication.{name}.years", f"[{a}, {b}] ends before it starts"))
        if "low" in r and "high" in r and r["low"] > r["high"]:
            out.append((f"replication.{name}.high", f"high {r['high']} is below low {r['low']}"))
    return out


def _error_override_problems(data: dict) -> list[tuple[str, str]]:
    """Series / origin bias and noise overrides: at least one part set; a bare number (a Fixed
    value) checked like a Fixed prior table (prior tables are checked with every prior)."""
    out = []
    for table in ERROR_OVERRIDE_KEYS:
        for name, o in data["evidence"].get(table, {}).items():
            key = f"evidence.{table}.{name}"
            if not any(p in o for p in ERROR_PARTS):
                out.append((key, "an override must set bias, noise or both"))
            for part in ERROR_PARTS:
                if part in o and not isinstance(o[part], dict):
                    spec = as_prior(o[part])
                    params = _param_problems(f"{key}.{part}", spec)
                    problem = _support_problem(f"{key}.{part}", spec) or (
                        None if params else _role_problem(f"{key}.{part}", spec))
                    out += ([(f"{key}.{part}", problem)] if problem else []) + params
    return out


def model_problems(data: dict) -> list[tuple[str, str]]:
    """(dotted key, problem) for every value the model cannot use in a resolved scenario.

    Each group of checks is skipped where the tree is malformed (missing keys, wrong types): those
    are the tree check's to report, and the other groups still run.
    """
    out = []
    for check in (_name_problems, _year_problems, _prior_problems, _scale_problems, _sampler_problems,
                  _diagnostics_problems, _entry_problems, _error_override_problems):
        try:
            out += check(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out
