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
