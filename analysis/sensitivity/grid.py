"""Which settings a sweep fits: parse ``--vary KEY=V1,V2,...``, build a full grid or a Latin
hypercube, and add the one-at-a-time points the tornado chart needs.

A *point* is a dict of dotted scenario keys to values (``{"supply.organs_per_donor.mu": 1.2}``);
the base scenario with those overrides is the point's scenario. Every point is validated with
``Scenario.with_overrides`` before anything is fitted, so a bad key or value stops the sweep with
the scenario validator's message and nothing is written.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from analysis.scenarios import Scenario, ScenarioError


@dataclass(frozen=True)
class Vary:
    """One ``--vary`` option: a dotted scenario key and the values (or range) it takes."""

    key: str
    values: tuple

    @property
    def numeric(self) -> bool:
        return all(_is_num(v) for v in self.values)

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in self.values)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_value(text: str):
    """A --vary value: integer, number, true/false, else the string itself."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        value = float(t)
    except ValueError:
        return t
    if not math.isfinite(value):
        raise ValueError(f"value {text!r} is not a finite number")
    return value


def parse_vary(spec: str) -> Vary:
    """``KEY=V1,V2,...`` -> Vary. Raises ValueError naming what is wrong."""
    if "=" not in spec:
        raise ValueError(f"--vary {spec!r}: expected KEY=V1,V2,... (e.g. supply.organs_per_donor.mu=0.9,1.03,1.2)")
    key, _, rest = spec.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ValueError(f"--vary {spec!r}: empty or malformed key {key!r}")
    parts = [p for p in rest.split(",")]
    if not rest.strip() or any(not p.strip() for p in parts):
        raise ValueError(f"--vary {spec!r}: empty value in the list {rest!r}")
    try:
        values = tuple(parse_value(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"--vary {spec!r}: {exc}") from None
    if len(set(map(repr, values))) != len(values):
        raise ValueError(f"--vary {spec!r}: repeated value")
    return Vary(key, values)


def check_varies(base: Scenario, varies: list[Vary]) -> None:
    """Refuse repeated keys and keys that are not leaves of the scenario (ScenarioError)."""
    label = f"--vary (base {base.name})"
    seen = set()
    for v in varies:
        if v.key in seen:
            raise ScenarioError(label, v.key, "varied twice; give all its values in one --vary")
        seen.add(v.key)
        try:
            current = base.get(v.key)
        except (KeyError, TypeError):
            # let the validator name the problem (unknown key and what is allowed)
            base.with_overrides({v.key: v.values[0]}, label=label)
            raise ScenarioError(label, v.key, "allowed but not set in the base scenario; set it "
                                "there first (the sweep needs its base value)") from None
        if isinstance(current, dict):
            raise ScenarioError(label, v.key, "is a table; vary one of its entries ("
                                + ", ".join(f"{v.key}.{k}" for k in current) + ")")


def full_grid(varies: list[Vary]) -> list[dict]:
    """Every combination of the varied values."""
    return [dict(zip([v.key for v in varies], combo))
            for combo in itertools.product(*[v.values for v in varies])]


def latin_hypercube(varies: list[Vary], n: int, seed: int) -> list[dict]:
    """``n`` points of a Latin hypercube over the varied ranges.

    A numeric key takes values uniformly in [min, max] of its listed values (integers rounded);
    a non-numeric key takes its listed values in equal strata.
    """
    if n < 1:
        raise ValueError(f"--samples must be >= 1, found {n}")
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(varies), seed=seed).random(n)
    points = []
    for row in unit:
        point = {}
        for u, v in zip(row, varies):
            if v.numeric and len(v.values) > 1:
                lo, hi = min(v.values), max(v.values)
                x = lo + u * (hi - lo)
                point[v.key] = int(round(x)) if v.integer else float(x)
            else:
                point[v.key] = v.values[min(int(u * len(v.values)), len(v.values) - 1)]
        points.append(point)
    return points


def one_at_a_time(base: Scenario, varies: list[Vary]) -> list[dict]:
    """Each key at each end of its range (numeric) or each value (else), the others at base."""
    out = []
    for v in varies:
        vals = [min(v.values), max(v.values)] if v.numeric else list(v.values)
        for x in vals:
            out.append({v.key: x})
    return out


def point_key(point: dict, base: Scenario) -> tuple:
    """Identity of a point after filling every varied key: base values where not set."""
    return tuple(sorted((k, repr(v)) for k, v in point.items() if v != base.get(k)))


@dataclass
class Point:
    index: int
    overrides: dict  # only the keys that differ from the base scenario
    values: dict  # every varied key -> its value at this point (base value where not varied)
    design: str  # "base" | "grid" | "lhs" | "oat"

    @property
    def label(self) -> str:
        if not self.overrides:
            return "base"
        return "; ".join(f"{short_key(k)}={fmt_value(v)}" for k, v in self.overrides.items())


def short_key(key: str) -> str:
    """A label for charts: the key without its top-level table when it has three or more parts
    (``evidence.volume.official.bias.mu`` -> ``volume.official.bias.mu``)."""
    parts = key.split(".")
    return ".".join(parts[1:]) if len(parts) >= 3 else key


def fmt_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def design_points(base: Scenario, varies: list[Vary], samples: int | None = None,
                  seed: int | None = None, oat: bool = True) -> list[Point]:
    """The sweep's points: base first, then the grid (or LHS), then missing one-at-a-time points.

    Duplicates (the same scenario reached twice) are fitted once; each point's scenario is
    validated here (ScenarioError on the first invalid one).
    """
    check_varies(base, varies)
    keys = [v.key for v in varies]
    base_values = {k: base.get(k) for k in keys}
    if samples:
        main = latin_hypercube(varies, samples, seed if seed is not None else int(base.get("sampler.seed")))
        kind = "lhs"
    else:
        main = full_grid(varies)
        kind = "grid"
    candidates = [({}, "base")] + [(p, kind) for p in main]
    if oat:
        candidates += [(p, "oat") for p in one_at_a_time(base, varies)]
    points: list[Point] = []
    seen = set()
    label = f"--vary (base {base.name})"
    for raw, design in candidates:
        values = base_values | raw
        overrides = {k: v for k, v in values.items() if v != base_values[k]}
        ident = point_key(overrides, base)
        if ident in seen:
            continue
        seen.add(ident)
        base.with_overrides(overrides, label=label)  # raises ScenarioError naming the key
        points.append(Point(len(points), overrides, values, design))
    return points
