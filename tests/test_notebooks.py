"""The analyst notebooks execute headless (papermill) and stay diff-friendly."""

from __future__ import annotations

import json
import subprocess

import pytest

from analysis.report.notebooks import execute, notebook_dir
from tests.conftest import REPO

NOTEBOOK_DIR = notebook_dir()


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
def test_model_fit_notebook_executes(tmp_path, quick_report):
    # loads the session's quick fit (a fit in the kernel would compile the model a second time;
    # fitting itself is exercised by the report fixture, test_reproducible and test_recovery)
    params = {"quick": True, "cache_dir": str(quick_report.cache)}
    executed = execute(NOTEBOOK_DIR / "02_model_fit.py", tmp_path, params)
    outs = _outputs(executed)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
    assert "organs not explained by declared sources under scenario baseline" in text
    assert "loaded from cache" in text
    assert "'rows_in_loo'" in text and "pareto_k_above_0.7" in text  # model criticism ran
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outs)
    assert "group:independent" in html  # the leave-one-origin-out table (cached by the report)


def test_every_notebook_declares_the_shared_parameters_and_ipynb_stays_out_of_git():
    import jupytext

    for p in sorted(NOTEBOOK_DIR.glob("[0-9]*.py")):
        nb = jupytext.read(p)
        [cell] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        names = {line.split("=")[0].strip() for line in cell.source.splitlines() if "=" in line}
        assert {"scenario", "data_dir", "quick"} <= names, p.name
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), p.name
    ignored = subprocess.run(["git", "check-ignore", "-q", "notebooks/03_gap_by_year.ipynb"], cwd=REPO)
    assert ignored.returncode == 0  # paired .ipynb files are not committed (.gitignore)


@pytest.mark.slow
def test_gap_by_year_notebook_executes(tmp_path, quick_report):
    # loads the session's quick fit from its cache (same data, scenario, settings and code)
    params = {"quick": True, "cache_dir": str(quick_report.cache)}
    executed = execute(NOTEBOOK_DIR / "03_gap_by_year.py", tmp_path, params)
    outs = _outputs(executed)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
    assert "organs not explained by declared sources under scenario baseline" in text
    assert "diagnostics gate" in text
    images = [o for o in outs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # main chart, gap by year, periods


def test_tgap_notebooks_writes_html(tmp_path):
    """`tgap notebooks --only 05 --quick` executes notebook 05 headless and writes its HTML."""
    from typer.testing import CliRunner

    from analysis.cli import app

    out = tmp_path / "nb"
    res = CliRunner().invoke(app, ["notebooks", "--only", "05_forensics", "--quick", "--out", str(out)])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "wrote 1 notebook(s) as HTML" in res.stdout
    page = (out / "05_forensics.html").read_text(encoding="utf-8")
    assert "Forensic checks of the official series" in page
    assert "result rows written to" in page and "Traceback" not in page
    assert page.count("data:image/png;base64") >= 1
    assert (out / "05_forensics.html").stat().st_mode & 0o777 == 0o644  # like every other output
    bad = CliRunner().invoke(app, ["notebooks", "--scenario", "no_such_scenario", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()


def test_forensics_notebook_says_when_godt_is_absent(tmp_path):
    empty = tmp_path / "no_godt"
    empty.mkdir()
    executed = execute(NOTEBOOK_DIR / "05_forensics.py", tmp_path,
                       {"quick": True, "out_dir": str(tmp_path / "f"), "godt_dir": str(empty)})
    outs = _outputs(executed)
    assert not [o for o in outs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
    assert "GODT exports not found" in text


def test_session_finds_the_checkout_from_notebooks_dir(monkeypatch, raw_dir):
    """Notebooks run with the kernel in notebooks/ or in the checkout: both find the data; bad
    data raise the validation error listing the problem."""
    from analysis.data.problems import DataError
    from analysis.report.session import load_observations, project_root

    checkout = raw_dir.parent
    (checkout / "notebooks").mkdir()
    monkeypatch.chdir(checkout / "notebooks")
    assert project_root("raw") == checkout
    raw, obs = load_observations("raw")
    assert len(obs) > 0 and set(raw.sources["source_id"]) >= set(obs["source_id"])
    monkeypatch.chdir(checkout)
    assert project_root("raw") == checkout
    (raw_dir / "volumes.csv").write_text("not,a,valid\nfile,,\n")
    with pytest.raises(DataError) as exc:
        load_observations("raw")
    assert "volumes.csv" in str(exc.value.problems[0])
