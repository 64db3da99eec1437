"""Report tables computed once per fit: kept beside the cached fit and read back next time.

A cached ``tgap report`` (nothing changed) recomputes the fit's summaries (quantiles, R-hat and ESS,
PSIS-LOO per claim) from the same draws every time; :func:`cached` keeps each result beside the
cached fit (``<fit dir>/report-<function>-<hash>.pkl``, its sha256 and size in a ``.json`` beside
it, both written with ``analysis.io``'s atomic writers). The hash covers the fit key (the draws,
evidence and scenario are a function of it: data, scenario, sampler settings, model code), the
function's source file and name, every other argument, and the versions of the libraries that
compute them. A missing, damaged or unreadable entry is computed again (and rewritten); a fit
without a cache entry (``--no-cache``) is always computed.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from analysis.io import atomic_write_bytes, atomic_write_json, checksum_problem, checksum_record
from analysis.report.chart_cache import code_identity, update_hash

LIBRARIES = ("numpy", "pandas", "xarray", "arviz", "scipy", "plotly")


def _key(result, fn: Callable, args: tuple, kwargs: dict) -> str:
    h = hashlib.sha256()
    code_identity(h, fn)
    h.update(f"fit:{result.key};".encode())
    h.update(json.dumps({lib: version(lib) for lib in LIBRARIES}, sort_keys=True).encode())
    fit_objects = [result, result.idata, result.evidence, result.scenario]

    def part(v):  # the fit's own objects are named by the fit key (already hashed above)
        return next((f"<fit object {i}>" for i, o in enumerate(fit_objects) if v is o), v)

    update_hash(h, [part(a) for a in args])
    update_hash(h, {k: part(v) for k, v in kwargs.items()})
    return h.hexdigest()[:24]


def _paths(result, fn: Callable, key: str) -> tuple[Path, Path] | None:
    if getattr(result, "path", None) is None or not Path(result.path).is_file():
        return None
    base = Path(result.path).parent / f"report-{fn.__name__}-{key}"
    return base.with_suffix(".pkl"), base.with_suffix(".json")


def _read(pkl: Path, meta: Path):
    data = pkl.read_bytes()
    rec = json.loads(meta.read_text(encoding="utf-8"))
    problem = checksum_problem(data, rec)
    if problem:
        raise ValueError(problem)
    return pickle.loads(data)  # noqa: S301 - our own cache entry, sha256-verified above


def cached(result, fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` for the fit ``result`` (a FitResult), from beside the cached fit
    when computed before with the same inputs and code. Returns (value, from cache?)."""
    paths = _paths(result, fn, _key(result, fn, args, kwargs))
    if paths is not None:
        pkl, meta = paths
        try:
            return _read(pkl, meta), True
        except Exception:  # noqa: BLE001 - missing, damaged or unreadable: computed again below
            pass
    value = fn(*args, **kwargs)
    if paths is not None:
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write_bytes(pkl, data)
            atomic_write_json(meta, {"function": f"{fn.__module__}.{fn.__qualname__}", **checksum_record(data)})
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # not kept: computed again next time
    return value, False
