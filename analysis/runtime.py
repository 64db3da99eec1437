"""Process set-up done before PyTensor/PyMC are imported: caches inside the project, quiet logs."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

CACHE_DIR = Path(os.environ.get("TGAP_CACHE_DIR", Path.cwd() / ".cache"))


def configure() -> None:
    """Idempotent: point PyTensor's compile cache into .cache/, silence cosmetic warnings."""
    if "base_compiledir" not in os.environ.get("PYTENSOR_FLAGS", ""):
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        extra = f"base_compiledir={CACHE_DIR / 'pytensor'}"
        os.environ["PYTENSOR_FLAGS"] = f"{flags},{extra}" if flags else extra
    os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR / "numba"))  # numba's on-disk cache, if used
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"arviz.*")
    warnings.filterwarnings("ignore", message=r".*BLAS.*")
    warnings.filterwarnings("ignore", message=r".*ArviZ is undergoing a major refactor.*")
    for name in ("pymc", "pytensor", "pymc.stats.convergence", "pymc.sampling.mcmc"):
        logging.getLogger(name).setLevel(logging.ERROR)
