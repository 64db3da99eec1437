"""Scenario files: every prior and modelling choice, in TOML, with ``extends`` inheritance.

``load_scenario(name_or_path)`` returns a :class:`Scenario` (the fully resolved table, the chain
of files it came from, and a hash). Any unknown key, wrong type or invalid distribution
parameter raises :class:`ScenarioError` naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.io import sha256_text
from analysis.scenarios.spec import DISTRIBUTIONS, SPEC, Leaf, MapOf

SCENARIO_DIR = Path(__file__).resolve().parent


class ScenarioError(Exception):
    """A scenario file is invalid. ``str(err)`` is ``FILE: KEY: problem; allowed: ...``."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key or '(top level)'}: {problem}")


@dataclass
class Scenario:
    name: str
    data: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def hash(self) -> str:
        return sha256_text(self.canonical())

    def canonical(self) -> str:
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"))

    def get(self, dotted: str):
        node = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def with_overrides(self, overrides: dict[str, Any], label: str = "override") -> Scenario:
        """A copy with dotted keys replaced (validated like a file)."""
        data = copy.deepcopy(self.data)
        for dotted, value in overrides.items():
            node = data
            parts = dotted.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        validate_tree(data, SPEC, label, "", required=True)
        return Scenario(self.name, data, list(self.files))


def available() -> dict[str, Path]:
    """Scenario name -> file, for the scenarios shipped with the package."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def _resolve_path(ref: str, relative_to: Path | None) -> Path | None:
    cands = []
    p = Path(ref)
    if p.suffix == ".toml" or "/" in ref:
        cands += [p, (relative_to / p) if relative_to else p]
    else:
        if relative_to:
            cands.append(relative_to / f"{ref}.toml")
        cands.append(SCENARIO_DIR / f"{ref}.toml")
    return next((c for c in cands if c.exists()), None)


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path.name, "", f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(path.name, "", f"not valid UTF-8: {exc}") from None


def _merge(base: dict, child: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by name (shipped) or by path, resolving ``extends`` chains."""
    path = _resolve_path(str(ref), None)
    if path is None:
        names = ", ".join(available())
        raise ScenarioError(str(ref), "", f"no such scenario file; shipped scenarios: {names}")
    chain: list[Path] = []
    trees: list[dict] = []
    while path is not None:
        if path.resolve() in [c.resolve() for c in chain]:
            raise ScenarioError(path.name, "extends", "circular extends chain: "
                                + " -> ".join(c.name for c in chain + [path]))
        tree = _read(path)
        validate_tree(tree, SPEC, path.name, "", required=False)
        chain.append(path)
        trees.append(tree)
        parent = tree.get("extends")
        if parent is None:
            break
        nxt = _resolve_path(parent, path.parent)
        if nxt is None:
            raise ScenarioError(path.name, "extends", f"extends {parent!r}, which does not exist; "
                                f"shipped scenarios: {', '.join(available())}")
        path = nxt
    merged: dict = {}
    for tree in reversed(trees):
        merged = _merge(merged, tree)
    merged.pop("extends", None)
    if "name" not in trees[0]:
        merged["name"] = chain[0].stem
    validate_tree(merged, SPEC, chain[0].name, "", required=True)
    return Scenario(merged["name"], merged, chain)


# ---- validation ---------------------------------------------------------------------------

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (isinstance(v, int | float)) and not isinstance(v, bool)


def _check_prior(value, file: str, key: str) -> None:
    if not isinstance(value, dict):
        raise ScenarioError(file, key, f"expected {Leaf('prior').describe()}, found {value!r}")
    dist = value.get("dist")
    if dist not in DISTRIBUTIONS:
        raise ScenarioError(file, f"{key}.dist", f"unknown distribution {dist!r}; allowed: "
                            + ", ".join(DISTRIBUTIONS))
    params = DISTRIBUTIONS[dist]
    for p in value:
        if p != "dist" and p not in params:
            raise ScenarioError(file, f"{key}.{p}", f"unknown parameter for {dist}; allowed: "
                                + ", ".join(params))
    for p, constraint in params.items():
        if p not in value:
            raise ScenarioError(file, f"{key}.{p}", f"missing parameter of {dist}; required: "
                                + ", ".join(params))
        v = value[p]
        if not _is_num(v):
            raise ScenarioError(file, f"{key}.{p}", f"expected a number, found {v!r}")
        if constraint == "positive" and not v > 0:
            raise ScenarioError(file, f"{key}.{p}", f"must be > 0 for {dist}, found {v!r}")
    if dist == "Uniform" and not value["lower"] < value["upper"]:
        raise ScenarioError(file, key, f"Uniform needs lower < upper, found {value['lower']} >= {value['upper']}")


def _check_leaf(leaf: Leaf, value, file: str, key: str) -> None:
    ok = {
        "str": lambda v: isinstance(v, str),
        "int": _is_int,
        "float": _is_num,
        "pos_float": lambda v: _is_num(v) and v > 0,
        "nonneg_float": lambda v: _is_num(v) and v >= 0,
        "prob": lambda v: _is_num(v) and 0 <= v <= 1,
        "pos_int": lambda v: _is_int(v) and v > 0,
        "bool": lambda v: isinstance(v, bool),
        "year_or_latest": lambda v: _is_int(v) or v == "latest",
        "choice": lambda v: v in leaf.choices,
        "str_list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "periods": lambda v: isinstance(v, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_is_int(x) or x == "latest" for x in p)
            for p in v),
    }
    if leaf.kind == "prior":
        _check_prior(value, file, key)
    elif not ok[leaf.kind](value):
        raise ScenarioError(file, key, f"expected {leaf.describe()}, found {value!r}")


def validate_tree(tree: dict, spec: dict, file: str, prefix: str, required: bool) -> None:
    if not isinstance(tree, dict):
        raise ScenarioError(file, prefix, f"expected a table, found {tree!r}")
    for key, value in tree.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in spec:
            raise ScenarioError(file, dotted, "unknown key; allowed: " + ", ".join(spec))
        sub = spec[key]
        if isinstance(sub, Leaf):
            _check_leaf(sub, value, file, dotted)
        elif isinstance(sub, MapOf):
            if not isinstance(value, dict):
                raise ScenarioError(file, dotted, f"expected a table, found {value!r}")
            for name, entry in value.items():
                validate_tree(entry, sub.spec, file, f"{dotted}.{name}", required)
        else:
            validate_tree(value, sub, file, dotted, required)
    if required:
        for key, sub in spec.items():
            if key not in tree and not (isinstance(sub, Leaf) and sub.optional) and not isinstance(sub, MapOf):
                dotted = f"{prefix}.{key}" if prefix else key
                raise ScenarioError(file, dotted, "missing key (not set here nor in any scenario it extends)")
