"""Execute the analyst notebooks (jupytext py:percent sources) headless with papermill."""

from __future__ import annotations

import os
from pathlib import Path


def notebook_dir() -> Path:
    """notebooks/ of the project root (analysis.runtime.find_project_root), so a regular
    (non-editable) install finds them when run inside the checkout or with TGAP_ROOT set."""
    from analysis.runtime import find_project_root

    root = find_project_root()
    if root is None or not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            f"notebooks not found: no tgap checkout with a notebooks/ directory from {Path.cwd()} upward; "
            "run from the project checkout or set TGAP_ROOT to it")
    return root / "notebooks"


def execute(source: Path, out_dir: Path, parameters: dict, cwd: Path | None = None,
            timeout: int = 1800, progress: bool = False) -> Path:
    """Run ``source`` (a .py percent notebook) with ``parameters``; return the executed .ipynb.

    ``progress`` shows papermill's per-cell progress bar (for a terminal)."""
    import jupytext
    import papermill as pm

    source = Path(source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    src_ipynb = out_dir / f"{source.stem}.source.ipynb"
    jupytext.write(nb, src_ipynb)
    executed = out_dir / f"{source.stem}.ipynb"
    saved_backend = os.environ.pop("MPLBACKEND", None)  # let the kernel use its inline backend
    try:
        pm.execute_notebook(str(src_ipynb), str(executed), parameters=parameters, kernel_name="python3",
                            cwd=str(cwd or notebook_dir().parent), progress_bar=progress,
                            execution_timeout=timeout, log_output=False)
    finally:
        src_ipynb.unlink(missing_ok=True)
        if saved_backend is not None:
            os.environ["MPLBACKEND"] = saved_backend
    return executed


def sources(only: list[str] | None = None) -> list[Path]:
    """The notebook sources (notebooks/*.py, sorted); ``only``: keep names containing any of these."""
    found = sorted(notebook_dir().glob("[0-9]*.py"))
    if only:
        found = [p for p in found if any(o in p.stem for o in only)]
    return found


def to_html(executed: Path) -> str:
    """The executed notebook as one self-contained HTML page (images inline)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body
