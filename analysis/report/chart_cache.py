"""Charts re-rendered only when what they are drawn from changed.

Every report chart goes through :func:`render`: it hashes exactly what the chart is drawn from
(the arguments passed to the plotting function, its name and source files (``code_files``: its
module's and those of the tgap modules that module refers to), the house style's source, this
module's source, the run-status watermark, the PNG dpi and the versions of
matplotlib, ArviZ and NumPy, and matplotlib's settings after ``style.apply()``), and when an entry
of that hash is in the chart cache (``analysis.runtime.CACHE_DIR / "charts"``), writes its PNG and
SVG bytes instead of drawing the figure again. Rendering is deterministic (no dates in the files,
a fixed SVG hash salt), so a reused chart is byte for byte the chart a fresh render would give.

Layout: ``<cache>/charts/<hash>.png``, ``<hash>.svg`` and ``<hash>.json`` (sha256 and size of both,
written last, each file atomically with ``analysis.io.atomic_write_*``). An entry whose checksum
file is missing or unreadable, or whose files differ from it (truncated, overwritten), is ignored
and the chart re-rendered; the new render replaces the entry. Nothing here ever fails a report:
a cache that cannot be read or written only costs a render.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import style
from analysis.io import (
    atomic_write_bytes,
    atomic_write_json,
    checksum_problem,
    checksum_record,
    commit_files,
    temp_path_beside,
)

FORMATS = ("png", "svg")
KEEP_ENTRIES = 200
"""Entries kept after a store (the least recently used beyond this are removed): ~15 reports of
13 charts, ~0.4 MB per entry (PNG at 200 dpi and SVG)."""
DIR: Path | None = None
"""Where the entries go when set (tests); else ``analysis.runtime.CACHE_DIR / "charts"``."""
_SOURCES: dict[str, bytes] = {}  # path -> file bytes, read once per process


def cache_dir() -> Path:
    """The chart cache: ``DIR`` when set, else ``analysis.runtime.CACHE_DIR / "charts"`` (read at call time)."""
    from analysis import runtime

    return Path(DIR) if DIR is not None else Path(runtime.CACHE_DIR) / "charts"


# ---- what a chart is drawn from -----------------------------------------------------------


def update_hash(h, obj) -> None:
    """Feed a canonical, type-tagged encoding of ``obj`` into ``h`` (deterministic across processes)."""
    import xarray as xr

    if obj is None or isinstance(obj, (bool, int, float, str, np.generic)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, bytes):
        h.update(b"bytes:%d;" % len(obj) + obj)
    elif isinstance(obj, Path):
        h.update(f"path:{obj};".encode())
    elif isinstance(obj, np.ndarray):
        h.update(f"ndarray:{obj.dtype.str}:{obj.shape};".encode())
        if obj.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(obj).tobytes())
        else:
            for v in obj.ravel():
                update_hash(h, v)
    elif isinstance(obj, pd.DataFrame):
        h.update(f"frame:{obj.shape};".encode())
        update_hash(h, obj.index)
        for col in obj.columns:
            update_hash(h, col)
            update_hash(h, obj[col])
    elif isinstance(obj, (pd.Series, pd.Index)):
        h.update(f"{type(obj).__name__}:{obj.dtype};".encode())
        if isinstance(obj, pd.Series):
            update_hash(h, obj.name)
            update_hash(h, obj.index)
        values = obj.to_numpy()
        update_hash(h, values if values.dtype.kind in "biufcmM" else np.asarray(values, dtype=object))
    elif isinstance(obj, xr.DataArray):
        h.update(b"dataarray;")
        update_hash(h, obj.name)
        update_hash(h, list(obj.dims))
        update_hash(h, {str(k): v.values for k, v in obj.coords.items()})
        update_hash(h, obj.values)
    elif isinstance(obj, xr.Dataset):
        h.update(b"dataset;")
        update_hash(h, {str(k): obj[k] for k in obj.data_vars})
        update_hash(h, {str(k): v.values for k, v in obj.coords.items()})
    elif isinstance(obj, dict):
        h.update(f"dict:{len(obj)};".encode())
        for k in sorted(obj, key=repr):
            update_hash(h, k)
            update_hash(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}:{len(obj)};".encode())
        for v in obj:
            update_hash(h, v)
    else:
        raise TypeError(f"chart_cache: cannot hash an argument of type {type(obj).__name__}; pass "
                        "arrays, frames, xarray objects, numbers, strings, lists or dicts")


def _source(path: str) -> bytes:
    if path not in _SOURCES:
        _SOURCES[path] = Path(path).read_bytes()
    return _SOURCES[path]


def _environment() -> str:
    """Versions and matplotlib settings every chart depends on (after ``style.apply()``)."""
    from importlib.metadata import version

    import matplotlib as mpl

    style.apply()
    rc = {k: repr(v) for k, v in mpl.rcParams.items() if k != "backend"}
    return json.dumps({"matplotlib": mpl.__version__, "arviz": version("arviz"), "numpy": np.__version__,
                       "dpi": style.PNG_DPI, "rc": rc}, sort_keys=True)


def code_files(fn: Callable) -> list[str]:
    """The source files ``fn``'s output depends on, as far as can be told: its own module's, and
    those of the tgap modules its module refers to by name (``from analysis.model import criticism``
    → analysis/model/criticism.py; one level, not their imports in turn)."""
    import types

    code = inspect.unwrap(fn)
    files = [inspect.getsourcefile(code)]
    for v in getattr(code, "__globals__", {}).values():
        if isinstance(v, types.ModuleType) and v.__name__.startswith("analysis.") and getattr(v, "__file__", None):
            files.append(v.__file__)
    return sorted({f for f in files if f})


def code_identity(h, fn: Callable) -> None:
    """Feed ``fn``'s name and the sha256 of each of its ``code_files`` into ``h``."""
    code = inspect.unwrap(fn)
    for path in code_files(fn):
        h.update(Path(path).name.encode())
        h.update(hashlib.sha256(_source(path)).digest())
    h.update(f"{code.__module__}.{code.__qualname__};".encode())


def chart_key(fn: Callable, args: tuple, kwargs: dict, label: str) -> str:
    """The hash of everything the chart ``fn(*args, **kwargs)`` (watermarked ``label``) is drawn from."""
    h = hashlib.sha256()
    code_identity(h, fn)
    for path in (style.__file__, __file__):
        h.update(hashlib.sha256(_source(path)).digest())
    h.update(_environment().encode())
    update_hash(h, label)
    update_hash(h, list(args))
    update_hash(h, kwargs)
    return h.hexdigest()[:32]


# ---- the cache ----------------------------------------------------------------------------


def _read(key: str, directory: Path) -> dict[str, bytes] | None:
    """The entry's bytes by format when every file matches its recorded sha256; else None."""
    try:
        meta = json.loads((directory / f"{key}.json").read_text(encoding="utf-8"))
        out = {}
        for fmt in FORMATS:
            data = (directory / f"{key}.{fmt}").read_bytes()
            if checksum_problem(data, meta["files"][fmt]):
                return None
            out[fmt] = data
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(key: str, directory: Path, files: dict[str, bytes], name: str) -> None:
    try:
        for fmt, data in files.items():
            atomic_write_bytes(directory / f"{key}.{fmt}", data)
        atomic_write_json(directory / f"{key}.json", {  # last: the entry exists once this does
            "chart": name, "files": {fmt: checksum_record(d) for fmt, d in files.items()}})
        prune(directory)
    except OSError:
        pass  # a read-only or full cache costs a render next time, never the report


def prune(directory: Path, keep: int = KEEP_ENTRIES) -> int:
    """Remove the least recently used entries beyond ``keep``; return how many were removed."""
    try:
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return 0
    removed = 0
    for meta in entries[keep:]:
        for p in [meta] + [meta.with_suffix(f".{fmt}") for fmt in FORMATS]:
            try:
                p.unlink()
            except OSError:
                pass
        removed += 1
    return removed


def _write_outputs(stem: Path, files: dict[str, bytes]) -> list[Path]:
    """Both files beside each other, each under a temp name first, renamed only when both are ready."""
    staged = []
    try:
        for fmt in FORMATS:
            target = stem.with_suffix(f".{fmt}")
            tmp = temp_path_beside(target)
            staged.append((tmp, target))
            tmp.write_bytes(files[fmt])
        commit_files(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [t for _, t in staged]


def render(stem: Path, fn: Callable, *args, label: str = "", use_cache: bool = True,
           **kwargs) -> bool:
    """Write ``stem``.png and ``stem``.svg of the chart ``fn(*args, **kwargs)`` watermarked with
    ``label`` (``style.mark``); from the chart cache when an entry of the same inputs is there.
    Returns True when the bytes came from the cache, False when the chart was drawn."""
    stem = Path(stem)
    directory = cache_dir()
    key = chart_key(fn, args, kwargs, label) if use_cache else None
    if key is not None:
        files = _read(key, directory)
        if files is not None:
            _write_outputs(stem, files)
            try:
                os.utime(directory / f"{key}.json")  # recently used: kept by prune
            except OSError:
                pass
            return True
    fig = fn(*args, **kwargs)
    style.mark(fig, label)
    paths = style.save(fig, stem)
    fig.clear()
    if key is not None:
        _store(key, directory, {p.suffix[1:]: p.read_bytes() for p in paths}, stem.name)
    return False
