"""Profiling harness: `tgap report --quick` with the fit code hash frozen (edits do not refit)."""
import sys

import analysis.model.fit as fit

fit.code_hash = lambda: "frozen-for-profiling"
from analysis.cli import app  # noqa: E402 - after the patch

sys.argv = ["tgap", "report", "--quick", "--out", "/tmp/tgap16-rm", "--forensics-out", "/tmp/tgap16-fm",
            "--godt-dir", "/work/shared/data/godt"] + sys.argv[1:]
app()
