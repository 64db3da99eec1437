"""Scenario files: every prior and modelling choice, in TOML, with ``extends`` inheritance.

``load_scenario(name_or_path)`` returns a :class:`Scenario` (the fully resolved table, the chain
of files it came from, and a hash). Any unknown key, wrong type or invalid distribution
parameter raises :class:`ScenarioError` naming the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.io import sha256_text
from analysis.scenarios.spec import DISTRIBUTIONS, SPEC, Leaf, MapOf, model_problems

SCENARIO_DIR = Path(__file__).resolve().parent


class ScenarioError(Exception):
    """A scenario file is invalid. ``str(err)`` is ``FILE: KEY: problem; allowed: ...``, one line
    per problem (``problems`` holds every (file, key, problem); the first is also in file/key/problem)."""

    def __init__(self, file: str, key: str, problem: str, more: list[tuple[str, str, str]] | None = None):
        self.file, self.key, self.problem = file, key, problem
        self.problems = [(file, key, problem), *(more or [])]
        super().__init__("\n".join(f"{f}: {k or '(top level)'}: {p}" for f, k, p in self.problems))

    @classmethod
    def of(cls, problems: list[tuple[str, str, str]]) -> ScenarioError:
        return cls(*problems[0], more=problems[1:])


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
        validate_all(data, label)
        return Scenario(self.name, data, list(self.files))


def available() -> dict[str, Path]:
    """Scenario name -> file, for the scenarios shipped with the package."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


LITERATURE_DIR = SCENARIO_DIR / "literature"
LITERATURE_PREFIX = "literature."


def literature() -> dict[str, Path]:
    """Scenario name (``literature.<stem>``) -> file, for the published analyses written as scenarios
    (analysis/scenarios/literature/; `tgap replicate` fits them)."""
    return {f"{LITERATURE_PREFIX}{p.stem}": p for p in sorted(LITERATURE_DIR.glob("*.toml"))}


def _resolve_path(ref: str, relative_to: Path | None) -> Path | None:
    cands = []
    p = Path(ref)
    if p.suffix == ".toml" or "/" in ref:
        cands += [p, (relative_to / p) if relative_to else p]
    elif ref.startswith(LITERATURE_PREFIX):
        cands.append(LITERATURE_DIR / f"{ref[len(LITERATURE_PREFIX):]}.toml")
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
    except IsADirectoryError:
        raise ScenarioError(path.name, "", f"{path} is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(path.name, "", f"cannot read {path}: {exc.strerror or exc}") from None


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
    problems: list[tuple[str, str, str]] = []
    while path is not None:
        if path.resolve() in [c.resolve() for c in chain]:
            raise ScenarioError(path.name, "extends", "circular extends chain: "
                                + " -> ".join(c.name for c in chain + [path]))
        tree = _read(path)
        problems += tree_problems(tree, SPEC, path.name, "", required=False)
        chain.append(path)
        trees.append(tree)
        parent = tree.get("extends")
        if not isinstance(parent, str):
            break  # absent, or not a string (reported above)
        nxt = _resolve_path(parent, path.parent)
        if nxt is None:
            problems.append((path.name, "extends", f"extends {parent!r}, which does not exist; "
                             f"shipped scenarios: {', '.join(available())}"))
        path = nxt
    broken_chain = any(key == "extends" for _, key, _ in problems)
    merged: dict = {}
    for tree in reversed(trees):
        merged = _merge(merged, tree)
    merged.pop("extends", None)
    if "name" not in trees[0]:
        merged["name"] = chain[0].stem
    if not broken_chain:  # else every key the missing parent would set is reported missing
        problems += [p for p in all_problems(merged, chain[0].name) if p not in problems]
    if problems:
        raise ScenarioError.of(problems)
    return Scenario(merged["name"], merged, chain)


# ---- validation ---------------------------------------------------------------------------
# Every check appends (file, key, problem) to a list; ScenarioError carries all of them.

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _not_finite(v) -> bool:
    return isinstance(v, float) and not math.isfinite(v)


def _prior_problems(value, file: str, key: str) -> list[tuple[str, str, str]]:
    if not isinstance(value, dict):
        return [(file, key, f"expected {Leaf('prior').describe()}, found {value!r}")]
    dist = value.get("dist")
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        return [(file, f"{key}.dist", f"unknown distribution {dist!r}; allowed: " + ", ".join(DISTRIBUTIONS))]
    params = DISTRIBUTIONS[dist]
    out = [(file, f"{key}.{p}", f"unknown parameter for {dist}; allowed: " + ", ".join(params))
           for p in value if p != "dist" and p not in params]
    for p, constraint in params.items():
        if p not in value:
            out.append((file, f"{key}.{p}", f"missing parameter of {dist}; required: " + ", ".join(params)))
            continue
        v = value[p]
        if _not_finite(v):
            out.append((file, f"{key}.{p}", f"must be a finite number, found {v!r}"))
        elif not _is_num(v):
            out.append((file, f"{key}.{p}", f"expected a number, found {v!r}"))
        elif constraint == "positive" and not v > 0:
            out.append((file, f"{key}.{p}", f"must be > 0 for {dist}, found {v!r}"))
    if not out and dist == "Uniform" and not value["lower"] < value["upper"]:
        out.append((file, key, f"Uniform needs lower < upper, found {value['lower']} >= {value['upper']}"))
    return out


def _leaf_ok(leaf: Leaf, v) -> bool:
    if leaf.kind == "choice":
        return v in leaf.choices
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
        "str_list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "year_pair": lambda v: isinstance(v, list) and len(v) == 2 and all(_is_int(x) for x in v),
        "periods": lambda v: isinstance(v, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_is_int(x) or x == "latest" for x in p)
            for p in v),
    }
    return ok[leaf.kind](v)


def _leaf_problems(leaf: Leaf, value, file: str, key: str) -> list[tuple[str, str, str]]:
    if leaf.kind == "prior" or (leaf.kind == "prior_or_number" and isinstance(value, dict)):
        return _prior_problems(value, file, key)
    if leaf.kind == "prior_or_number":
        if _not_finite(value):
            return [(file, key, f"must be a finite number, found {value!r}")]
        return [] if _is_num(value) else [(file, key, f"expected {leaf.describe()}, found {value!r}")]
    if _not_finite(value):
        return [(file, key, f"must be a finite number, found {value!r}")]
    if not _leaf_ok(leaf, value):
        return [(file, key, f"expected {leaf.describe()}, found {value!r}")]
    return []


def tree_problems(tree, spec: dict, file: str, prefix: str, required: bool) -> list[tuple[str, str, str]]:
    """Every unknown key, wrong type, invalid parameter and (if ``required``) missing key."""
    if not isinstance(tree, dict):
        return [(file, prefix, f"expected a table, found {tree!r}")]
    out = []
    for key, value in tree.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in spec:
            out.append((file, dotted, "unknown key; allowed: " + ", ".join(spec)))
            continue
        sub = spec[key]
        if isinstance(sub, Leaf):
            out += _leaf_problems(sub, value, file, dotted)
        elif isinstance(sub, MapOf):
            if not isinstance(value, dict):
                out.append((file, dotted, f"expected a table, found {value!r}"))
                continue
            for name, entry in value.items():
                out += tree_problems(entry, sub.spec, file, f"{dotted}.{name}", required)
        else:
            out += tree_problems(value, sub, file, dotted, required)
    if required:
        for key, sub in spec.items():
            if key not in tree and not (isinstance(sub, Leaf) and sub.optional) and not isinstance(sub, MapOf):
                dotted = f"{prefix}.{key}" if prefix else key
                out.append((file, dotted, "missing key (not set here nor in any scenario it extends)"))
    return out


def validate_tree(tree: dict, spec: dict, file: str, prefix: str, required: bool) -> None:
    """Raise ScenarioError listing every problem of ``tree`` against ``spec``."""
    problems = tree_problems(tree, spec, file, prefix, required)
    if problems:
        raise ScenarioError.of(problems)


def all_problems(data: dict, file: str) -> list[tuple[str, str, str]]:
    """Every problem of a resolved scenario: unknown keys, wrong types, missing keys, and every value
    the model cannot use (supports, ranges, order of years and periods, sampler bounds, the name;
    analysis/scenarios/spec.py ``model_problems``)."""
    problems = tree_problems(data, SPEC, file, "", required=True)
    typed = {key for _, key, _ in problems}
    return problems + [(file, key, problem) for key, problem in model_problems(data)
                       if not any(key == k or key.startswith(k + ".") or k.startswith(key + ".") for k in typed)]


def validate_all(data: dict, file: str) -> None:
    """Raise ScenarioError listing every problem of ``all_problems``."""
    problems = all_problems(data, file)
    if problems:
        raise ScenarioError.of(problems)
