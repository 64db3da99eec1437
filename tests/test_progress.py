"""The status line printed where users wait (analysis/progress.py)."""

from __future__ import annotations

import io
import re

import pytest

from analysis.progress import status


def test_status_prints_one_line_with_elapsed_time_when_not_a_terminal():
    out = io.StringIO()
    with status("compiling the model for nutpie-jax", stream=out) as info:
        pass
    assert re.fullmatch(r"compiling the model for nutpie-jax \(\d+\.\d s\)\n", out.getvalue())
    assert info["elapsed_s"] >= 0


def test_status_line_is_printed_when_the_step_fails():
    out = io.StringIO()
    with pytest.raises(ValueError, match="boom"), status("mode search", stream=out):
        raise ValueError("boom")
    assert out.getvalue().startswith("mode search (")


def test_status_on_a_terminal_ends_with_the_same_line():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    with status("log-likelihood and predictive draws", stream=out):
        pass
    assert re.search(r"log-likelihood and predictive draws \(\d+\.\d s\)\n\Z", out.getvalue())
