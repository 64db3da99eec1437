"""A numba implementation of ``erfcx`` that numba can cache on disk.

PyTensor's numba backend compiles ``Erfcx`` by calling scipy's Cython ``erfcx`` through a
function pointer, and a function that calls a pointer cannot be cached: PyTensor then gives no
cache key to the scalar op, so none to the Composite that holds it, nor to the whole log-density
graph (``compiler_verbose`` says "will not be cached"), and every fresh process recompiled the
whole density (with nutpie's cfunc route: 142 s of a 162 s warm-disk quick fit on the benchmark
machine, 96.5 s of it left with this module alone; ``numba_cached`` removes the rest).

Importing this module registers a pure-numba ``erfcx`` with a cache key (the hash of this file),
so the graph is cached like every other op. Same formula as ``jax_ops``: ``exp(x^2) erfc(x)`` up
to ``x = 12`` (relative error ~x^2 eps), the ten-term asymptotic series above (truncation error
below 1e-16 there); ``jax_ops`` uses these constants. ``numba_cached`` imports it before a numba
compilation; tests compare it with scipy from x = -26 to 1e5 (tests/test_numba_ops.py).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numba
from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key
from pytensor.scalar.math import Erfcx

SERIES_FROM = 12.0
SERIES_TERMS = 10
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
CACHE_KEY = "tgap_erfcx_" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@numba.njit(fastmath=False)  # callable from Python too (the tests compare it with scipy)
def erfcx(x):
    if x > SERIES_FROM:
        u = 1.0 / (2.0 * x * x)
        total = 1.0
        term = 1.0
        for n in range(1, SERIES_TERMS):
            term = -term * (2 * n - 1) * u
            total = total + term
        return total * _INV_SQRT_PI / x
    return math.exp(x * x) * math.erfc(x)


@register_funcify_and_cache_key(Erfcx)
def _numba_funcify_erfcx(op, node=None, **kwargs):
    return erfcx, CACHE_KEY
