"""Atomic writes for the forensic outputs, through the one atomic writer and CSV writer of analysis.io."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis import io


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temp file beside ``path``; it replaces ``path`` (0644) when done."""
    with io.atomic_path(Path(path)) as tmp:
        write(tmp)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (no index, ``\\n`` line ends, formula cells neutralised), atomically."""
    io.write_csv(frame, Path(path))


def write_json(obj, path: Path) -> None:
    """``obj`` as indented, key-sorted JSON, atomically."""
    io.atomic_write_json(Path(path), obj)
