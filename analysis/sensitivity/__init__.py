"""Sensitivity of the unexplained gap to the scenario's assumptions.

- ``tgap sensitivity``: refit over a grid or Latin hypercube of scenario keys (``grid``, ``sweep``),
  summarise each period's gap per setting, chart tornado / small multiples / specification curve
  (``charts``), and power-scale the base fit's priors without refitting (``psense``).
- ``tgap breakeven``: for each period and key assumption, the value at which the posterior median
  gap is zero, by a root search over refits (``breakeven``).
- :func:`report_section`: the HTML fragment of both for the report (``output``).

Nothing heavy is imported here (the command line imports this package at start-up).
"""

from __future__ import annotations

from pathlib import Path


def report_section(out_dir: str | Path) -> str:
    """HTML fragment (``<section id="sensitivity">``) from a sensitivity output directory;
    figures embedded as base64 PNG. FileNotFoundError when the directory has no results."""
    from analysis.sensitivity.output import report_section as _section

    return _section(out_dir)


__all__ = ["report_section"]
