"""The one progress helper: a rich bar on a terminal, one plain line per step otherwise.

``Bar`` draws the bar; ``Steps`` times named steps (the report, the notebooks); ``Counter`` counts
finished tasks (sensitivity sweeps, break-even searches: ``[i/n] text`` lines off a terminal);
``status`` is a spinner with the elapsed time for one step where users wait (compilation, mode
search, predictive draws), on stderr, then one line ``<label> (<s> s)``. Top-level so that every
layer may use it.
"""

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


class Bar:
    """A rich progress bar (description, bar, i/n, elapsed) on ``stream``; nothing when off."""

    def __init__(self, label: str, total: int | None, on: bool, stream=None, transient: bool = True):
        self._progress = self._task = None
        if on:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(file=stream) if stream is not None else None
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), transient=transient, console=console)
            self._progress.start()
            self._task = self._progress.add_task(label, total=total)

    @property
    def on(self) -> bool:
        return self._progress is not None

    def describe(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text[:80])

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class Counter:
    """Count finished tasks: the bar on a terminal, ``[i/n] text`` lines otherwise."""

    def __init__(self, total: int, title: str, stream=None, tty: bool | None = None):
        self.total, self.done, self.title = total, 0, title
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._bar = Bar(title, total, self.tty, stream=self.stream, transient=False)

    def update(self, text: str) -> None:
        self.done += 1
        if self._bar.on:
            self._bar.describe(f"{self.title}: {text}")
            self._bar.advance()
        else:
            print(f"[{self.done}/{self.total}] {text}", file=self.stream, flush=True)

    def close(self) -> None:
        self._bar.close()


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
        self._bar = Bar(label, total, interactive() if bar is None else bar)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._bar.describe(f"{self.label}: {name}")
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = round(time.perf_counter() - t0, 2)
            self.timings[name] = elapsed
            self._bar.advance()
        if not self._bar.on:
            self.echo(f"{self.label}: {name} ({elapsed:.1f} s)")

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
