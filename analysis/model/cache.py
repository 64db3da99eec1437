"""The fit cache checks itself: each cached ``idata.nc`` has its sha256 beside it.

Layout: ``<cache>/fits/<fit key>/idata.nc`` and ``idata.nc.sha256.json`` (sha256, size, scenario,
fit key). :func:`save` writes the idata first and the checksum last (each atomically), so a run
killed in between leaves an entry without a matching checksum. :func:`load` verifies size and
sha256 before opening the file; a missing checksum, a mismatch (truncated, overwritten bytes) or a
file NetCDF cannot read gives ``(None, reason)``: the caller reports it and refits, and the bad
entry is never used. ``tgap cache list|verify|clear`` shows, checks and removes entries.

``created_at`` attrs (the only values that differ between identical runs) are dropped from every
group before writing and every group's variables are put in name order, so identical fits give
identical bytes, also across processes.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from analysis.io import (
    atomic_path,
    atomic_write_json,
    checksum_problem,
    remove_leftovers,
    sha256_file,
)

CHECKSUM_SUFFIX = ".sha256.json"
VOLATILE_ATTRS = ("created_at",)


def checksum_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + CHECKSUM_SUFFIX)


def strip_volatile(idata) -> None:
    """Make identical runs write identical bytes: drop the attrs that differ between them and put
    every group's variables and coordinates in name order (PyMC's prior group comes in the order
    of a set of names, which differs between processes with Python's string hashing)."""
    import xarray as xr

    for group in idata.groups():
        ds = getattr(idata, group)
        for k in VOLATILE_ATTRS:
            ds.attrs.pop(k, None)
        if list(ds.data_vars) != sorted(ds.data_vars) or list(ds.coords) != sorted(ds.coords):
            ordered = xr.Dataset({k: ds[k].variable for k in sorted(ds.data_vars)},
                                 coords={k: ds.coords[k].variable for k in sorted(ds.coords)},
                                 attrs=ds.attrs)
            setattr(idata, group, ordered)


def save(idata, path: Path) -> str:
    """Write ``idata`` to ``path`` and its checksum beside it; return the sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path.parent)
    strip_volatile(idata)
    with atomic_path(path) as tmp:
        idata.to_netcdf(tmp)
        digest, size = sha256_file(tmp), tmp.stat().st_size
    atomic_write_json(checksum_path(path), {
        "sha256": digest, "bytes": size, "fit_key": str(idata.attrs.get("fit_key", path.parent.name)),
        "scenario_name": str(idata.attrs.get("scenario_name", "")),
    })
    return digest


def sweep(fits_dir: Path) -> list[Path]:
    """Remove temp files of dead runs in ``fits_dir`` and in every entry's folder (a fit killed
    while saving leaves one; the next fit of any key removes it). Never raises."""
    removed = []
    try:
        dirs = [Path(fits_dir)] + [d for d in Path(fits_dir).iterdir() if d.is_dir() and not d.is_symlink()]
    except OSError:
        return removed
    for d in dirs:
        try:
            removed += remove_leftovers(d)
        except OSError:
            pass
    return removed


def _record(path: Path) -> tuple[dict | None, str | None]:
    """The checksum record saved beside ``path``, or (None, why it cannot be used)."""
    try:
        record = json.loads(checksum_path(path).read_text(encoding="utf-8"))
        int(record["bytes"]), str(record["sha256"])
        return record, None
    except FileNotFoundError:
        return None, "no checksum beside it (written by an older tgap or an interrupted run)"
    except (OSError, ValueError, KeyError, TypeError):
        return None, "its checksum file is unreadable"


def verify(path: Path) -> str | None:
    """Why the cached file at ``path`` must not be used, or None when its bytes are as saved."""
    data, problem = _verified_bytes(Path(path))
    return problem


class DrawGroups:
    """A cached ``idata.nc`` read with xarray alone: its groups as Datasets, as InferenceData shows
    them to code that only reads draws (``idata.posterior``, ``idata["posterior"]``, ``groups()``,
    ``attrs``). Importing ArviZ brings its plotting stack, SciPy's statistics and numba (seconds per
    process); a cached report needs none of them. The file's bytes are held in memory (the bytes
    whose sha256 was checked) and each group is parsed on first use: a report whose tables and
    charts all come from their caches parses none. Any other attribute is looked up on the ArviZ
    object, made once on first use (``to_inference_data``)."""

    def __init__(self, data: bytes, names: list[str], attrs: dict):
        self._data = data
        self._names = list(names)
        self._groups: dict = {}
        self.attrs = dict(attrs)
        self._idata = None

    def groups(self) -> list[str]:
        return list(self._names)

    def _group(self, name: str):
        if name not in self._groups:
            import io

            import xarray as xr

            with xr.open_dataset(io.BytesIO(self._data), group=f"/{name}", engine="h5netcdf") as ds:
                self._groups[name] = ds.load()
        return self._groups[name]

    def __getitem__(self, group: str):
        if group not in self._names:
            raise KeyError(group)
        return self._group(group)

    def __contains__(self, group: str) -> bool:
        return group in self._names

    def to_inference_data(self):
        if self._idata is None:
            import arviz as az

            self._idata = az.InferenceData(attrs=self.attrs, **{g: self._group(g) for g in self._names})
        return self._idata

    def __getattr__(self, name: str):
        names = self.__dict__.get("_names")
        if names is None or name.startswith("_"):
            raise AttributeError(name)
        if name in names:
            return self._group(name)
        return getattr(self.to_inference_data(), name)


def _read_groups(data: bytes) -> DrawGroups:
    """The group names and root attrs of an InferenceData netCDF file's bytes (as ``az.from_netcdf``
    reads them); the groups themselves are parsed on first use."""
    import io

    import h5netcdf
    import xarray as xr

    with h5netcdf.File(io.BytesIO(data), mode="r") as fh:
        names = list(fh.groups)
    with xr.open_dataset(io.BytesIO(data), group="/", engine="h5netcdf") as root:
        attrs = dict(root.attrs)
    return DrawGroups(data, names, attrs)


def _verified_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes when they match its checksum record (size and sha256), else (None, reason)."""
    if not path.is_file():
        return None, "missing"
    record, problem = _record(path)
    if problem:
        return None, problem
    data = path.read_bytes()
    problem = checksum_problem(data, record)
    return (None, problem) if problem else (data, None)


def load(path: Path, light: bool = False):
    """(idata, None) for a verified, readable entry; else (None, reason). Never raises.

    ``light``: a :class:`DrawGroups` (xarray only, groups parsed on first use from the verified
    bytes) instead of an ArviZ InferenceData."""
    path = Path(path)
    if light:
        try:
            data, problem = _verified_bytes(path)
            if problem:
                return None, problem
            return _read_groups(data), None
        except Exception as exc:  # noqa: BLE001 - any reader failure means: refit
            return None, f"unreadable ({type(exc).__name__}: {exc})"
    problem = verify(path)
    if problem:
        return None, problem
    try:
        import arviz as az

        idata = az.from_netcdf(path)
        for group in idata.groups():
            getattr(idata, group).load()  # read everything now: the file may be replaced later
        return idata, None
    except Exception as exc:  # noqa: BLE001 - any reader failure means: refit
        return None, f"unreadable ({type(exc).__name__}: {exc})"


def report(path: Path, problem: str) -> None:
    sys.stderr.write(f"tgap: cached fit {path} not used: {problem}; refitting\n")


@dataclass
class Entry:
    key: str
    path: Path
    scenario: str
    size: int
    problem: str | None


def entries(cache_dir: Path, check: bool = False) -> list[Entry]:
    """Every cached fit under ``cache_dir`` (the ``fits`` folder), optionally verified."""
    out = []
    for d in sorted(p for p in Path(cache_dir).glob("*") if p.is_dir() and not p.name.startswith(".")):
        path = d / "idata.nc"
        try:
            meta = json.loads(checksum_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        size = path.stat().st_size if path.is_file() else 0
        out.append(Entry(d.name, path, str(meta.get("scenario_name", "?")) if isinstance(meta, dict) else "?",
                         size, verify(path) if check else None))
    return out


# ---- tgap cache ---------------------------------------------------------------------------

cli = typer.Typer(help="List, verify or clear cached fits (.cache/fits).", no_args_is_help=True)
CacheDir = typer.Option(None, "--cache-dir", help="Folder of cached fits (default .cache/fits, "
                        "or $TGAP_CACHE_DIR/fits).")


def _fits_dir(cache_dir: Path | None) -> Path:
    from analysis.runtime import CACHE_DIR

    return Path(cache_dir) if cache_dir is not None else CACHE_DIR / "fits"


@cli.command("list")
def list_cmd(cache_dir: Path = CacheDir) -> None:
    """One line per cached fit: key, scenario, size."""
    found = entries(_fits_dir(cache_dir))
    for e in found:
        typer.echo(f"{e.key}  {e.scenario:24s} {e.size / 1e6:8.1f} MB")
    typer.echo(f"{len(found)} cached fit(s) in {_fits_dir(cache_dir)}")


@cli.command("verify")
def verify_cmd(cache_dir: Path = CacheDir) -> None:
    """Check every cached fit against its sha256; exit 1 if any is bad (bad ones are refitted)."""
    found = entries(_fits_dir(cache_dir), check=True)
    for e in found:
        typer.echo(f"{e.key}  {e.scenario:24s} {'ok' if e.problem is None else 'BAD: ' + e.problem}")
    bad = [e for e in found if e.problem]
    typer.echo(f"{len(found) - len(bad)} ok, {len(bad)} bad")
    if bad:
        raise typer.Exit(1)


@cli.command("clear")
def clear_cmd(cache_dir: Path = CacheDir,
              bad_only: bool = typer.Option(False, "--bad", help="Remove only entries that fail verify.")) -> None:
    """Remove cached fits (all, or with --bad only those that fail verification)."""
    found = entries(_fits_dir(cache_dir), check=bad_only)
    gone = [e for e in found if not bad_only or e.problem]
    for e in gone:
        shutil.rmtree(e.path.parent, ignore_errors=True)
    typer.echo(f"removed {len(gone)} cached fit(s) from {_fits_dir(cache_dir)}")
