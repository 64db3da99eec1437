# Harness used for benchmarks/results/report_quick_pairs.json (issue 16): `tgap report --quick` with the
# fit code hash frozen, so two checkouts whose model code differs load the same cached quick fit.
# Paths are those of that run (/tmp/tgap16-*); copy and edit to rerun.
"""Profiling harness: `tgap report --quick` with the fit code hash frozen (edits do not refit)."""
import sys

import analysis.model.fit as fit

fit.code_hash = lambda: "frozen-for-profiling"
from analysis.cli import app  # noqa: E402 - after the patch

sys.argv = ["tgap", "report", "--quick", "--out", "/tmp/tgap16-r", "--forensics-out", "/tmp/tgap16-f",
            "--godt-dir", "/work/shared/data/godt"] + sys.argv[1:]
app()
