"""Progress for the report and notebooks: the package's one progress helper (analysis.progress)."""

from analysis.progress import Steps, interactive

__all__ = ["Steps", "interactive"]
