"""What a scenario file may contain: every key, its type and its allowed values.

Nothing here is a default: the baseline scenario must set every key, and other scenarios
inherit from it with ``extends``. This module only says what is *allowed*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    kind: str  # str | int | float | pos_float | pos_int | bool | prior | year_or_latest | periods | choice | str_list
    choices: tuple = ()
    optional: bool = False

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "prior":
            return "a prior table {dist = ..., <params>}; dist one of " + ", ".join(DISTRIBUTIONS)
        return {
            "str": "a string", "int": "an integer", "float": "a number", "pos_float": "a number > 0",
            "pos_int": "an integer > 0", "bool": "true or false", "year_or_latest": 'a year or "latest"',
            "periods": 'a list of [start, end] pairs (years or "latest")', "str_list": "a list of strings",
            "nonneg_float": "a number >= 0", "prob": "a number in [0, 1]",
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

_evidence_class = {"include": Leaf("bool"), "bias": PRIOR, "noise": PRIOR}

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
    },
    "organ_mix": {g: {o: Leaf("pos_float") for o in ORGANS} for g in ["all", "living"]},
    "evidence": {
        **{t: {g: dict(_evidence_class) for g in GROUPS} for t in TARGETS},
        "shares": {"include": Leaf("bool"), "noise": Leaf("pos_float")},
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
        },
    },
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
