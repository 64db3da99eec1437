"""Priors from scenario tables ``{dist = ..., <params>}`` to PyMC variables.

Every numeric prior parameter enters the model as data (``pm.Data``), named
``<prior>__<param>``: one compiled model serves every scenario that differs only in numbers, and
``analysis.model.inputs.model_inputs`` computes those values for any scenario. The distribution
family is structure (a different family is a different model). A ``Fixed`` prior is a data value
too (``<prior>__value``), so sweeping a fixed assumption needs no recompilation either.
"""

from __future__ import annotations

import numpy as np

# PyMC is imported where a distribution is made, not here: the data-value helpers below
# (prior_inputs, vector_prior_inputs) serve code that never builds a model (a cached report)
_FAMILIES = ("Normal", "LogNormal", "HalfNormal", "Beta", "Gamma", "Uniform")


def _dist(family: str):
    """The PyMC distribution class of a prior family."""
    import pymc as pm

    if family not in _FAMILIES:
        raise KeyError(family)
    return getattr(pm, family)


def _param_names(spec: dict) -> list[str]:
    return [k for k in spec if k != "dist"]


def prior_inputs(name: str, spec: dict) -> dict[str, np.ndarray]:
    """The data values of one prior: ``{f"{name}__{param}": value}``."""
    return {f"{name}__{k}": np.asarray(float(spec[k])) for k in _param_names(spec)}


def prior(name: str, spec: dict, data: dict, **kwargs):
    """A named random variable, or the data value itself for ``dist = "Fixed"``."""
    if spec["dist"] == "Fixed":
        return data[f"{name}__value"]
    return _dist(spec["dist"])(name, **{k: data[f"{name}__{k}"] for k in _param_names(spec)}, **kwargs)


def prior_dist(name: str, spec: dict, data: dict, key: str):
    """An unnamed distribution (e.g. a random walk's initial value); parameters from ``data``."""
    if spec["dist"] == "Fixed":
        raise ValueError(f"{key}: a Fixed value is not allowed here")
    return _dist(spec["dist"]).dist(**{k: data[f"{name}__{k}"] for k in _param_names(spec)})


def _groups(specs: list[dict]) -> dict[str, list[int]]:
    by_dist: dict[str, list[int]] = {}
    for i, s in enumerate(specs):
        by_dist.setdefault(s["dist"], []).append(i)
    return dict(sorted(by_dist.items()))


def vector_prior_inputs(name: str, specs: list[dict]) -> dict[str, np.ndarray]:
    """Data values of a vector prior: one array per (family, parameter)."""
    out = {}
    for dist, idx in _groups(specs).items():
        for k in _param_names(specs[idx[0]]):
            out[f"{name}_{dist.lower()}__{k}"] = np.array([float(specs[i][k]) for i in idx])
    return out


def vector_prior(name: str, specs: list[dict], data: dict):
    """One vector of priors, one entry per spec, with as few PyMC variables as possible.

    Entries sharing a distribution family become one vector variable (``{name}_{dist}``), Fixed
    entries data values; the result is reassembled in the order of ``specs``. A small graph
    compiles far faster than one scalar variable per entry.
    """
    parts, index, offset = [], [None] * len(specs), 0
    for dist, idx in _groups(specs).items():
        var = f"{name}_{dist.lower()}"
        if dist == "Fixed":
            parts.append(data[f"{var}__value"])
        else:
            params = {k: data[f"{var}__{k}"] for k in _param_names(specs[idx[0]])}
            parts.append(_dist(dist)(var, **params, shape=len(idx)))
        for j, i in enumerate(idx):
            index[i] = offset + j
        offset += len(idx)
    import pytensor.tensor as pt

    flat = pt.concatenate(parts) if len(parts) > 1 else parts[0]
    return flat[index]

