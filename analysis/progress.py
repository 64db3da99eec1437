"""A status line for steps where users wait (compilation, mode search, predictive draws).

On a terminal (stderr): a rich spinner and the elapsed time while the step runs, then one line
``<label> (<s> s)``. Otherwise only that line, once the step ends. Written to stderr, so
commands' own output (stdout) stays as it was. Top-level so that every layer may use it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def status(label: str, stream=None) -> Iterator[dict]:
    """``with status("compiling the model"): ...``; yields a dict that gets ``elapsed_s``."""
    stream = stream or sys.stderr
    info: dict = {}
    t0 = time.perf_counter()
    live = None
    if _terminal(stream):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        live = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        transient=True, console=Console(file=stream))
        live.add_task(label, total=None)
        live.start()
    try:
        yield info
    finally:
        info["elapsed_s"] = round(time.perf_counter() - t0, 2)
        if live is not None:
            live.stop()
        print(f"{label} ({info['elapsed_s']:.1f} s)", file=stream, flush=True)
