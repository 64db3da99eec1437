"""Priors from scenario tables ``{dist = ..., <params>}`` to PyMC variables."""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt

_DISTS = {
    "Normal": pm.Normal, "LogNormal": pm.LogNormal, "HalfNormal": pm.HalfNormal,
    "Beta": pm.Beta, "Gamma": pm.Gamma, "Uniform": pm.Uniform,
}


def _params(spec: dict) -> dict:
    return {k: float(v) for k, v in spec.items() if k != "dist"}


def prior(name: str, spec: dict, **kwargs):
    """A named random variable, or a constant for ``dist = "Fixed"``."""
    if spec["dist"] == "Fixed":
        return pt.constant(float(spec["value"]), name=name)
    return _DISTS[spec["dist"]](name, **_params(spec), **kwargs)


def prior_dist(spec: dict, key: str):
    """An unnamed distribution (e.g. a random walk's initial value)."""
    if spec["dist"] == "Fixed":
        raise ValueError(f"{key}: a Fixed value is not allowed here")
    return _DISTS[spec["dist"]].dist(**_params(spec))


def vector_prior(name: str, specs: list[dict]):
    """One vector of priors, one entry per spec, with as few PyMC variables as possible.

    Entries sharing a distribution family become one vector variable (``{name}_{dist}``), Fixed
    entries become constants; the result is reassembled in the order of ``specs``. A small graph
    compiles far faster than one scalar variable per entry.
    """
    parts, index = [], [None] * len(specs)
    by_dist: dict[str, list[int]] = {}
    for i, s in enumerate(specs):
        by_dist.setdefault(s["dist"], []).append(i)
    offset = 0
    for dist, idx in sorted(by_dist.items()):
        if dist == "Fixed":
            parts.append(pt.as_tensor([float(specs[i]["value"]) for i in idx]))
        else:
            keys = [k for k in specs[idx[0]] if k != "dist"]
            params = {k: [float(specs[i][k]) for i in idx] for k in keys}
            parts.append(_DISTS[dist](f"{name}_{dist.lower()}", **params, shape=len(idx)))
        for j, i in enumerate(idx):
            index[i] = offset + j
        offset += len(idx)
    flat = pt.concatenate(parts) if len(parts) > 1 else parts[0]
    return flat[index]
