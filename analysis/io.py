"""Small file helpers shared by every layer: hashing, the one atomic writer, the one CSV writer
(spreadsheet-formula neutralisation), removal of leftovers of interrupted runs, code version."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from analysis import __version__


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


FILE_MODE = 0o644  # every file tgap writes (ingest, fits, reports, forensics, sweeps)
DIR_MODE = 0o755
LEFTOVER_AGE_S = 3600  # a leftover without a live owner pid is removed once older than this


def checksum_record(data: bytes) -> dict:
    """What a self-checking cache entry records beside its bytes: ``{"sha256", "bytes"}``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def checksum_problem(data: bytes, record: dict) -> str | None:
    """Why ``data`` is not the bytes ``record`` (a :func:`checksum_record`) describes, or None.
    Raises KeyError/ValueError/TypeError for a record that is not one."""
    size = int(record["bytes"])
    if len(data) != size:
        return f"size {len(data):,} bytes, {size:,} when saved (truncated or replaced)"
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        return "sha256 differs from the one saved with it (the file was modified)"
    return None


def temp_path_beside(path: Path) -> Path:
    """A fresh temp file in the same directory (so os.replace is atomic), named
    ``.<name>.<pid>.<random>.tmp`` so that :func:`remove_leftovers` can tell whose it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def finish_file(tmp: Path, target: Path) -> None:
    """fsync ``tmp``, give it FILE_MODE and rename it onto ``target`` (atomic on one filesystem)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextmanager
def atomic_path(path: Path):
    """Yield a temp path beside ``path``; write to it; on success it replaces ``path`` (mode 0644,
    fsynced), on any error it is removed and ``path`` is left as it was. The one atomic writer:
    every output of tgap goes through here (directly or via atomic_write_* / write_csv)."""
    path = Path(path)
    tmp = temp_path_beside(path)
    try:
        yield tmp
        finish_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def commit_files(staged: Iterable[tuple[Path, Path]]) -> None:
    """Rename prepared temp files onto their targets (each rename is atomic, each file 0644)."""
    for tmp, target in staged:
        finish_file(Path(tmp), Path(target))


def stage_text(path: Path, text: str) -> Path:
    """A temp file beside ``path`` holding ``text`` (UTF-8, as written), for :func:`commit_files`."""
    tmp = temp_path_beside(Path(path))
    tmp.write_bytes(text.encode("utf-8"))
    return tmp


def write_files(contents: dict[Path, str]) -> None:
    """Write several text files as one step: every file is prepared under a temp name first and
    the renames start only when all are ready (in the order given; put a manifest last). On any
    error before the renames no target is touched and no temp file is left."""
    staged = []
    try:
        for path, text in contents.items():
            staged.append((stage_text(path, text), Path(path)))
        commit_files(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


MANIFEST = "manifest.json"


def manifest_files(manifest: dict) -> dict[str, str]:
    """relative path -> sha256 of every file a fit or report manifest vouches for."""
    files = dict(manifest.get("files") or {})
    files.update((manifest.get("report") or {}).get("files") or {})
    return files


def generation_problems(folder: Path) -> list[str]:
    """Why ``folder`` (a fit or report output folder) is not one complete generation: its
    manifest.json missing or unreadable, or a file the manifest lists missing or with another
    sha256. Empty when every listed file is exactly as the run that wrote the manifest left it.

    Writers make this the test of a whole folder: they delete the old manifest.json before the
    first rename and write the new one (index.html after it, for reports) last, so a run killed
    while renaming leaves a folder without a manifest, never one whose manifest vouches for a mix.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ["no manifest.json (no complete run, or one interrupted while writing)"]
    except (OSError, ValueError):
        return ["manifest.json unreadable"]
    if not isinstance(manifest, dict):
        return ["manifest.json unreadable"]
    files = manifest_files(manifest)
    if not files:
        return ["manifest.json lists no files (written by an older tgap)"]
    problems = []
    for rel, digest in sorted(files.items()):
        p = folder / rel
        if not p.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_file(p) != digest:
            problems.append(f"{rel}: sha256 differs from manifest.json")
    return problems


def staging_dir(parent: Path) -> Path:
    """A fresh ``.staging-<pid>-<random>`` directory in ``parent`` (see :func:`remove_leftovers`)."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=parent))
    os.chmod(path, DIR_MODE)
    return path


# ---- spreadsheet-safe CSV ------------------------------------------------------------------
# OWASP "CSV injection": a cell starting with = + - @ tab or CR is run as a formula by spreadsheet
# programs. Text cells so starting get a leading apostrophe; numbers (numeric columns, and text
# that is a plain number such as "-1,004" or "-5%") are left alone. A cell that already starts
# with apostrophes before such a character gets one more, so ``unneutralise`` restores every cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?$")


def neutralise(cell):
    if not isinstance(cell, str) or not cell:
        return cell
    bare = cell.lstrip("'")
    if bare[:1] in FORMULA_START and not (bare == cell and _PLAIN_NUMBER.match(cell) and any(c.isdigit() for c in cell)):
        return "'" + cell
    return cell


def unneutralise(cell):
    if isinstance(cell, str) and cell.startswith("'") and cell.lstrip("'")[:1] in FORMULA_START:
        return cell[1:]
    return cell


def is_text_column(series) -> bool:
    return series.dtype == object or str(series.dtype).startswith(("string", "str"))


def neutralise_frame(frame):
    """A copy of ``frame`` with every text cell neutralised (numeric columns untouched)."""
    out = frame.copy()
    for col in out.columns:
        if is_text_column(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def csv_text(frame, index: bool = False, neutralise_cells: bool = True, **kwargs) -> str:
    """The text of ``frame`` as tgap writes every CSV: LF line ends, text cells neutralised (and,
    should a text cell hold a carriage return, which the minimal quoting leaves bare, every text
    cell quoted). ``neutralise_cells=False`` only for files in the data/raw input schema (``tgap
    simulate``), which tgap reads back as raw data, without :func:`unneutralise`."""
    import csv

    safe = neutralise_frame(frame) if neutralise_cells else frame
    texts = [safe[c] for c in safe.columns if is_text_column(safe[c])]
    if "quoting" not in kwargs and any(t.map(lambda v: isinstance(v, str) and "\r" in v).any() for t in texts):
        kwargs["quoting"] = csv.QUOTE_NONNUMERIC
    return safe.to_csv(index=index, lineterminator="\n", **kwargs)


def read_csv(path, **kwargs):
    """``pandas.read_csv`` of a CSV written by :func:`write_csv`, text cells restored exactly."""
    import pandas as pd

    frame = pd.read_csv(path, **kwargs)
    for col in frame.columns:
        if is_text_column(frame[col]):
            frame[col] = frame[col].map(unneutralise)
    return frame


def write_csv(frame, path: Path, index: bool = False, **kwargs) -> None:
    """The one CSV writer: :func:`csv_text`, written with :func:`atomic_path`."""
    atomic_write_text(Path(path), csv_text(frame, index=index, **kwargs))


# ---- leftovers of interrupted runs ---------------------------------------------------------
_OWNED = re.compile(r"^(?:\..+\.(?P<pid>\d+)\.[^.]+\.tmp|\.staging-(?P<spid>\d+)-.+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(directory: Path, now: float | None = None) -> list[Path]:
    """Remove ``.*.tmp`` files and ``.staging-*`` directories in ``directory`` that no live
    process owns: named with a pid that is not running, or (older names, no pid) older than
    LEFTOVER_AGE_S. Returns what was removed. Never raises for a file that vanished meanwhile."""
    import shutil
    import time

    directory = Path(directory)
    if not directory.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for p in directory.iterdir():
        if not (p.name.startswith(".staging-") or (p.name.startswith(".") and p.name.endswith(".tmp"))):
            continue
        m = _OWNED.match(p.name)
        pid = next((int(g) for g in (m.groups() if m else ()) if g), None)
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        if pid is None:
            try:
                if now - p.lstat().st_mtime < LEFTOVER_AGE_S:
                    continue
            except FileNotFoundError:
                continue
        if pid == os.getpid():
            continue  # this process's own work in progress
        try:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def code_version() -> str:
    """`git describe` of the checkout when available, else the package version."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0 and out.stdout.strip():
            return f"{__version__}+{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return __version__
