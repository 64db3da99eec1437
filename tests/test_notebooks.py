"""The analyst notebooks execute headless (papermill) and stay diff-friendly."""

from __future__ import annotations

import json
import subprocess

import pytest

from analysis.report.notebooks import NOTEBOOK_DIR, execute
from tests.conftest import REPO


def test_notebook_sources_are_percent_scripts_without_outputs():
    sources = sorted(NOTEBOOK_DIR.glob("*.py"))
    assert [p.stem for p in sources][:2] == ["01_data_overview", "02_model_fit"]
    for p in sources:
        text = p.read_text(encoding="utf-8")
        assert "format_name: percent" in text and 'tags=["parameters"]' in text, p.name
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=REPO, capture_output=True, text=True).stdout
    for name in tracked.split():
        if name.endswith(".ipynb"):  # paired notebooks may be committed only without outputs
            nb = json.loads((REPO / name).read_text(encoding="utf-8"))
            assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), name


def _outputs(executed):
    nb = json.loads(executed.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_data_overview_notebook_executes(tmp_path):
    executed = execute(NOTEBOOK_DIR / "01_data_overview.py", tmp_path, {"quick": True})
    outs = _outputs(executed)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
    assert "observations from" in text and "conflicting pairs" in text
    images = [o for o in outs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the series grid and the coverage heat-map


@pytest.mark.slow
def test_model_fit_notebook_executes(tmp_path):
    executed = execute(NOTEBOOK_DIR / "02_model_fit.py", tmp_path, {"quick": True})
    outs = _outputs(executed)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
    assert "organs not explained by declared sources under scenario baseline" in text
