"""Small helpers shared by the forensic checks: percentiles and year labels."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def percentile_of(values: Iterable[float], target: float) -> float:
    """Mid-rank percentile of ``target`` among ``values``: 100 * (#below + #equal / 2) / N.

    NaN values are ignored; NaN when no value is left or ``target`` is NaN. 0 means every value is
    larger than ``target``, 100 that every value is smaller. (``scipy.stats.percentileofscore``
    with ``kind="mean"``.)
    """
    v = np.asarray(list(values), dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0 or np.isnan(target):
        return float("nan")
    below = np.count_nonzero(v < target)
    equal = np.count_nonzero(v == target)
    return float(100.0 * (below + 0.5 * equal) / v.size)


def years_label(years: Iterable[int]) -> str:
    """Compact label for a set of years: ``2010-2014,2016,2020-2024``."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    parts, start, prev = [], ys[0], ys[0]
    for y in ys[1:] + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if y is not None:
            start = prev = y
    return ",".join(parts)


def is_consecutive(years: Iterable[int]) -> bool:
    """True when the years are strictly increasing by one."""
    ys = np.asarray(list(years), dtype=int)
    return bool(ys.size > 0 and np.all(np.diff(ys) == 1))


def consecutive_runs(years: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive years as (first, last), in calendar order."""
    runs: list[tuple[int, int]] = []
    for y in sorted({int(y) for y in years}):
        if runs and y == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    return runs
