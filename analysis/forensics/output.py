"""Atomic writes for the forensic outputs: temp file beside the target, then ``os.replace``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.io import temp_path_beside


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a fresh temp file beside ``path``, then rename it onto ``path``.

    The file gets the usual permissions (0666 minus the umask) rather than the temp file's 0600.
    """
    path = Path(path)
    tmp = temp_path_beside(path)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (no index, ``\\n`` line ends), atomically."""
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))


def write_json(obj, path: Path) -> None:
    """``obj`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
