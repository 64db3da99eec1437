"""Process set-up done before PyTensor/PyMC are imported: caches inside the project, quiet logs."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path


def find_project_root(start: Path | None = None) -> Path | None:
    """The tgap checkout every default path is resolved from, or None.

    ``TGAP_ROOT`` when set; else the first of ``start`` (default: the working directory) and its
    parents that holds both ``pyproject.toml`` and ``data/raw``; else the checkout this package was
    imported from (an editable install). A regular install run outside a checkout finds none.
    """
    env = os.environ.get("TGAP_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    package_checkout = Path(__file__).resolve().parents[1]
    for d in [here, *here.parents, package_checkout]:
        if (d / "pyproject.toml").is_file() and (d / "data" / "raw").is_dir():
            return d
    return None


PROJECT_ROOT = find_project_root()
CACHE_DIR = Path(os.environ.get("TGAP_CACHE_DIR") or (PROJECT_ROOT or Path.cwd()) / ".cache")


def configure() -> None:
    """Idempotent: point PyTensor's compile cache into .cache/, silence cosmetic warnings."""
    if "base_compiledir" not in os.environ.get("PYTENSOR_FLAGS", ""):
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        extra = f"base_compiledir={CACHE_DIR / 'pytensor'}"
        os.environ["PYTENSOR_FLAGS"] = f"{flags},{extra}" if flags else extra
    if "numba__fastmath" not in os.environ["PYTENSOR_FLAGS"]:
        # reproducible across processes: with fastmath the numba-compiled log density differed in
        # its last bit between fresh processes (analysis.model.fit.numba_flags)
        os.environ["PYTENSOR_FLAGS"] += ",numba__fastmath=False"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(CACHE_DIR / "numba"))  # numba's on-disk cache, if used
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"arviz.*")
    warnings.filterwarnings("ignore", message=r".*BLAS.*")
    warnings.filterwarnings("ignore", message=r".*ArviZ is undergoing a major refactor.*")
    for name in ("pymc", "pytensor", "pymc.stats.convergence", "pymc.sampling.mcmc"):
        logging.getLogger(name).setLevel(logging.ERROR)
