"""Progress for long steps: a bar on a terminal, one plain log line per step otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def interactive() -> bool:
    """True when stdout is a terminal (then bars are drawn; else plain lines are printed)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


class Steps:
    """Time named steps; show them as a rich progress bar (terminal) or as plain lines.

    ``with steps.step("charts: main"): ...`` records the step's wall time in ``steps.timings``
    (seconds, rounded to 0.01) and prints ``<label>: <name> (<s> s)`` when not on a terminal.
    """

    def __init__(self, label: str, total: int | None = None, bar: bool | None = None,
                 echo: Callable[[str], None] | None = None):
        self.label = label
        self.timings: dict[str, float] = {}
        self.echo = echo or (lambda msg: print(msg, flush=True))
        self._bar = interactive() if bar is None else bar
        self._progress = None
        self._task = None
        if self._bar:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(label, total=total)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.label}: {name}")
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = round(time.perf_counter() - t0, 2)
            self.timings[name] = elapsed
            if self._progress is not None:
                self._progress.advance(self._task)
        if self._progress is None:
            self.echo(f"{self.label}: {name} ({elapsed:.1f} s)")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
