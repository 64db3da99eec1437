"""Fast tests of the report's generated text, markers, formatting rule, data dictionary, CLI help,
--version, scenario TOML round trip and the project-root finder (no sampling)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.report import statements
from analysis.report.datapackage import round_for_csv, rule, schema, write_datapackage

REPO = Path(__file__).resolve().parents[1]
SBC = REPO / "benchmarks" / "results" / "sbc.json"
PYTHON = sys.executable


def _periods(**extra) -> pd.DataFrame:
    t = pd.DataFrame({"period": ["2000-2005", "2015-2024"], "gap_mean": [-5.0e4, 1.5e4],
                      "gap_median": [-52143.6, 14695.9], "gap_q05": [-99506.3, -12198.0],
                      "gap_q25": [-6.8e4, 4512.0], "gap_q75": [-4.1e4, 26258.0], "gap_q95": [-25424.5, 47788.4],
                      "p_gap_positive": [0.0, 0.8175]})
    for k, v in extra.items():
        t[k] = v
    return t


# ---- headline ----------------------------------------------------------------------------------


def test_headline_uses_the_signed_gap_columns_when_the_new_ones_are_absent():
    t = _periods()
    assert statements.columns_for(t) is statements.SIGNED
    s = statements.headline_sentence(t, "baseline")
    assert s == ("Under scenario baseline, an estimated 14,700 organs transplanted in 2015–2024 are not "
                 "explained by the declared sources (90% interval −12,200 to 47,800); probability 0.82 that "
                 "the period's total gap is positive.")
    # the numbers are the table's, rounded to 3 significant figures
    row = t.iloc[-1]
    for col in ["gap_median", "gap_q05", "gap_q95"]:
        assert statements.count(row[col]) in s
    assert f"{row['p_gap_positive']:.2f}" in s


def test_headline_prefers_the_unexplained_columns_and_says_probability_of_any():
    t = _periods(unexplained_median=[0.0, 21012.0], unexplained_q05=[0.0, 3456.0],
                 unexplained_q95=[812.0, 50321.0], p_any_year_positive=[0.11, 0.97])
    assert statements.columns_for(t) is statements.UNEXPLAINED
    s = statements.headline_sentence(t, "baseline")
    assert s == ("Under scenario baseline, an estimated 21,000 organs transplanted in 2015–2024 are not "
                 "explained by the declared sources (90% interval 3,460 to 50,300); probability 0.97 that "
                 "the volume exceeded the declared supply in at least one year of the period.")


def test_headline_for_a_negative_gap_says_the_sources_could_supply_more():
    s = statements.headline_sentence(_periods(), "maximal_supply", period="2000-2005")
    assert s.startswith("Under scenario maximal_supply, the declared sources could have supplied an estimated "
                        "52,100 more organs than were transplanted in 2000–2005 (gap 90% interval −99,500 to "
                        "−25,400)")
    for word in ["proves", "fabricat", "harvest", "forced", "genocide"]:
        assert word not in s.lower()


# ---- quick and failed-gate markers ------------------------------------------------------------


def test_run_status_marks_quick_and_failed_gate_runs():
    full = {"chains": 4, "tune": 1000, "draws": 1000}
    assert statements.run_status({"chains": 2, "tune": 300, "draws": 200}, full, True).label == "QUICK RUN"
    assert statements.run_status(full, full, False).label == "DIAGNOSTICS GATE FAILED"
    both = statements.run_status({"chains": 4, "tune": 1000, "draws": 100}, full, False)
    assert both.label == "QUICK RUN · DIAGNOSTICS GATE FAILED" and "not for citation" in both.sentence
    ok = statements.run_status(full, full, True)
    assert not ok.marked and ok.label == ""


def test_watermark_goes_on_a_chart_only_when_marked():
    from matplotlib.figure import Figure

    from analysis import style

    fig = Figure()
    style.mark(fig, "")
    assert not fig.texts
    style.mark(fig, "QUICK RUN")
    assert [t.get_text() for t in fig.texts] == ["QUICK RUN", "QUICK RUN"]


# ---- calibration sentence ---------------------------------------------------------------------


def test_calibration_statement_states_the_figures_of_sbc_json_with_its_date(tmp_path):
    r = json.loads(SBC.read_text(encoding="utf-8"))
    s = statements.calibration_statement(SBC)
    assert f"covered the true value in {100 * r['coverage_90']:.1f}% of dataset-years" in s
    assert f"50% intervals in {100 * r['coverage_50']:.1f}%" in s
    assert re.search(r"\(benchmarks/sbc\.json, \d{4}-\d{2}-\d{2}\)", s)
    # every percentage in the sentence is one of the file's coverages
    stated = {float(x) for x in re.findall(r"(\d+\.\d)%", s)}
    assert stated == {round(100 * r["coverage_90"], 1), round(100 * r["coverage_50"], 1)}
    # a different result file gives a different sentence (nothing is hand-written)
    other = dict(r, coverage_90=0.8123, date="2030-01-02")
    (tmp_path / "sbc.json").write_text(json.dumps(other))
    s2 = statements.calibration_statement(tmp_path / "sbc.json")
    assert "81.2%" in s2 and "2030-01-02" in s2
    assert statements.calibration_statement(tmp_path / "missing.json") is None


def test_no_hand_written_calibration_claim_is_left_in_the_report_code():
    code = "".join(p.read_text(encoding="utf-8") for p in (REPO / "analysis" / "report").glob("*.py"))
    assert "less often than" not in code
    assert "may be too narrow" not in code


def test_baseline_description_agrees_with_the_evidence_class_assumption():
    from analysis.scenarios import load_scenario

    d = " ".join(load_scenario("baseline").get("description").split())
    assert "its own bias" not in d
    assert "individual series have none of their own" in d


# ---- tables: one formatting rule, data dictionary --------------------------------------------


def test_one_formatting_rule_for_csv_and_html():
    from analysis.report import html as report_html

    f = pd.DataFrame({"year": [2015.0], "gap_median": [-1004.4], "p_gap_positive": [0.81949],
                      "r_hat": [1.00512], "ess_bulk": [292.7], "gated": [True]})
    out = round_for_csv(f)
    assert out["gap_median"].tolist() == [-1004] and str(out["gap_median"].dtype) == "Int64"
    assert out["p_gap_positive"].tolist() == [0.8195] and out["r_hat"].tolist() == [1.0051]
    assert out["ess_bulk"].tolist() == [293]
    page = report_html.table(f)
    assert '<td class="num">−1,004</td>' in page and '<td class="num">0.8195</td>' in page
    assert "<td>yes</td>" in page and "True" not in page


def test_datapackage_describes_every_column_with_units(tmp_path):
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"year": [2015], "gap_q05": [-3.0], "p_gap_positive": [0.5]}).to_csv(
        tmp_path / "tables" / "g.csv", index=False)
    pkg = json.loads(write_datapackage(tmp_path, "baseline").read_text())
    assert pkg["profile"] == "tabular-data-package"
    (res,) = pkg["resources"]
    assert res["path"] == "tables/g.csv"
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert fields["gap_q05"]["unit"] == "organs" and "5% quantile" in fields["gap_q05"]["description"]
    assert fields["p_gap_positive"]["unit"] == "probability" and fields["p_gap_positive"]["decimals"] == 4
    assert fields["year"]["type"] == "integer"
    assert rule("unexplained_median")[1] == "organs"
    assert schema(pd.DataFrame({"x": [1.5]}))["fields"][0]["description"] == "x"


def test_excluded_reasons_have_no_placeholders_and_keep_an_example():
    from types import SimpleNamespace

    from analysis.report.run import excluded_reasons

    ev = SimpleNamespace(excluded=pd.DataFrame({"reason": ["years 2010-2025 outside the model range 2000-2024",
                                                           "years 1990-1995 outside the model range 2000-2024",
                                                           "before declared.donation_start (2010)"]}))
    t = excluded_reasons(ev)
    assert "<" not in "".join(t["reason"])
    first = t.iloc[0]
    assert first["rows"] == 2 and first["example"] == "years 2010-2025 outside the model range 2000-2024"


def test_user_tables_drop_log_scale_bounds():
    from analysis.report.run import user_table

    t = user_table(pd.DataFrame({"lo": [6.9078], "hi": [1000.0], "observed_lo": [1000.0],
                                 "observed_hi": [np.inf]}))
    assert list(t.columns) == ["observed_lo", "observed_hi"] and t["observed_hi"].isna().all()


# ---- CLI ------------------------------------------------------------------------------------------


def _cmd_invoke(args):
    from click.testing import CliRunner as ClickRunner

    from analysis.cli import command

    return ClickRunner().invoke(command(), args, prog_name="tgap", env={"COLUMNS": "200"})


def test_version():
    from analysis import __version__

    res = CliRunner().invoke(__import__("analysis.cli", fromlist=["app"]).app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"tgap {__version__}"


@pytest.mark.parametrize("cmd", ["", "check", "ingest", "fit", "simulate", "forensics", "report", "notebooks",
                                 "sensitivity", "breakeven", "scenarios", "scenarios show"])
def test_help_has_no_type_placeholders_and_describes_every_option(cmd):
    res = _cmd_invoke([*cmd.split(), "--help"])
    assert res.exit_code == 0, res.output
    assert not re.search(r"<(bool|str|int|path|float|list\[[A-Za-z]+\])>", res.output), res.output
    for line in res.output.splitlines():
        m = re.match(r"│ (?:\*\s+)?(--[a-z-]+)(.*)│$", line)
        if m:  # an option row: something after the option names and metavar
            assert re.search(r"[A-Za-z]{3,}", re.sub(r"--[a-z-]+|\b[A-Z]+\b", "", m.group(2))), line


def test_scenarios_show_prints_toml_that_round_trips(tmp_path):
    import tomllib

    from analysis.scenarios import load_scenario

    for name in ["baseline", "donors_inflated"]:
        res = _cmd_invoke(["scenarios", "show", name])
        assert res.exit_code == 0, res.output
        tomllib.loads(res.output)  # valid TOML
        path = tmp_path / f"{name}_copy.toml"
        path.write_text(res.output, encoding="utf-8")
        original, copy = load_scenario(name), load_scenario(str(path))
        assert copy.hash == original.hash
        assert f"hash {original.hash}" in res.output.splitlines()[0]


# ---- project root, notebooks ---------------------------------------------------------------------


def _run(code: str, cwd: Path, **env) -> str:
    e = {k: v for k, v in os.environ.items() if k not in ("TGAP_ROOT", "TGAP_CACHE_DIR")}
    e.update(env)
    out = subprocess.run([PYTHON, "-c", code], cwd=cwd, env=e, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_kernel_in_notebooks_uses_the_cli_cache():
    code = "from analysis.runtime import CACHE_DIR, PROJECT_ROOT; print(CACHE_DIR); print(PROJECT_ROOT)"
    cache, root = _run(code, REPO / "notebooks", PYTHONPATH=str(REPO)).splitlines()
    assert Path(root) == REPO and Path(cache) == REPO / ".cache"
    assert _run(code, REPO, PYTHONPATH=str(REPO)).splitlines()[0] == cache


def test_notebooks_found_from_the_project_root_in_a_regular_install(tmp_path):
    """A copy of the package alone (as pip install . puts it in site-packages) run inside the checkout,
    or anywhere with TGAP_ROOT, finds notebooks/ of the checkout."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "analysis", site / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from analysis.report.notebooks import sources; print(len(sources()), sources()[0].parent)"
    n, where = _run(code, REPO / "notebooks", PYTHONPATH=str(site)).split()
    assert int(n) == len(list((REPO / "notebooks").glob("[0-9]*.py"))) and Path(where) == REPO / "notebooks"
    n, where = _run(code, tmp_path, PYTHONPATH=str(site), TGAP_ROOT=str(REPO)).split()
    assert Path(where) == REPO / "notebooks"
    out = subprocess.run([PYTHON, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if k != "TGAP_ROOT"}, "PYTHONPATH": str(site)})
    assert out.returncode != 0 and "notebooks not found" in out.stderr and "TGAP_ROOT" in out.stderr


def test_missing_data_says_what_to_pass(tmp_path):
    from analysis.cli import app

    res = CliRunner().invoke(app, ["report", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 1
    assert "data not found" in res.stderr and "pass --data-dir DIR" in res.stderr
    assert res.stderr.count("\n") == 1 and not (tmp_path / "r").exists()


def test_api_load_fit_and_load_observations_from_the_package():
    import analysis

    assert analysis.load_fit.__module__ == "analysis.report.session"
    raw, obs = analysis.load_observations()
    assert len(obs) > 100 and "source_id" in obs


def test_headline_table_shows_the_unexplained_columns_when_present():
    from analysis.report import html as report_html
    from analysis.report.html import Page

    def page(per):
        empty = pd.DataFrame(columns=["key", "value", "baseline", "differs"])
        return Page(scenario="baseline", scenario_hash="0" * 64, description="d", manifest={}, headline=per,
                    diagnostics={"passed": True, "checks": {}}, figures={}, assumptions=[],
                    scenario_settings=empty, flags=pd.DataFrame(), excluded_reasons=pd.DataFrame(),
                    sources=pd.DataFrame(), diagnostics_table=pd.DataFrame(), predictive_by_series=pd.DataFrame(),
                    tables=[], headline_sentence=statements.headline_sentence(per, "baseline"))

    signed = report_html._headline(page(_periods()))
    assert "P(any unexplained)" not in signed and "14,696" in signed
    new = _periods(unexplained_median=[0.0, 21012.0], unexplained_q05=[0.0, 3456.0],
                   unexplained_q95=[812.0, 50321.0], p_any_year_positive=[0.11, 0.97])
    out = report_html._headline(page(new))
    assert "P(any unexplained)" in out and "21,012" in out and "3,456 to 50,321" in out and "0.97" in out
    assert "probability 0.97 that the volume exceeded the declared supply in at least one year" in out


def test_one_quantile_builder_for_the_report_tables():
    from analysis.report.charts import QS, quantile_columns

    draws = np.arange(101, dtype=float)[None, :].repeat(2, axis=0)
    cols = quantile_columns("gap", draws)
    assert list(cols) == [f"gap_{q}" for q in QS]
    assert cols["gap_q05"].tolist() == [5.0, 5.0] and cols["gap_median"].tolist() == [50.0, 50.0]
