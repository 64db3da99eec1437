"""`tgap report`: charts, tables, index.html and manifest from one quick fit of the shipped data.

The fit runs once per session (``quick_report`` in conftest.py); everything else reuses its cache.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.io import sha256_file
from analysis.report import html as report_html
from analysis.report.progress import Steps
from tests.conftest import write_raw

runner = CliRunner()

CHARTS = ["main", "gap_by_year", "gap_by_period", "diagnostics", "trace", "rank", "predictive_volume",
          "predictive_executions", "predictive_donors", "predictive_living"]
TABLES = ["declared_sources_by_year", "cumulative_gap", "diagnostics", "posterior_predictive",
          "predictive_by_series", "data_quality_flags", "excluded_reasons", "sources", "scenario_settings"]


# ---- fast: bad input, HTML helpers, progress ----------------------------------------------


def test_unknown_scenario_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "report"
    res = runner.invoke(app, ["report", "--scenario", "no_such_scenario", "--out", str(out),
                              "--forensics-out", str(tmp_path / "forensics")])
    assert res.exit_code == 2
    assert "scenario error" in res.stderr
    assert not out.exists() and not (tmp_path / "forensics").exists()


def test_bad_raw_data_exits_1_and_writes_nothing(tmp_path):
    raw = write_raw(tmp_path / "raw")
    vol = raw / "volumes.csv"
    vol.write_text(vol.read_text(encoding="utf-8").replace("20201", "twenty"), encoding="utf-8")
    out = tmp_path / "report"
    res = runner.invoke(app, ["report", "--data-dir", str(raw), "--derived", str(tmp_path / "derived"),
                              "--out", str(out), "--forensics-out", str(tmp_path / "forensics")])
    assert res.exit_code == 1
    assert "volumes.csv" in res.stdout
    assert not out.exists() and not (tmp_path / "forensics").exists()


def test_missing_godt_file_exits_1(tmp_path):
    res = runner.invoke(app, ["report", "--godt", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r"),
                              "--derived", str(tmp_path / "derived")])
    assert res.exit_code == 1
    assert "GODT export not found" in res.stderr
    assert not (tmp_path / "r").exists()


def test_links_are_escaped_and_only_http_or_relative():
    assert report_html.link("https://example.org/a?b=1&c=2", "x<y") == \
        '<a href="https://example.org/a?b=1&amp;c=2">x&lt;y</a>'
    assert report_html.link("javascript:alert(1)", "t") == "t"
    assert report_html.link("tables/a.csv", "a") == '<a href="tables/a.csv">a</a>'
    assert report_html.link("", "plain") == "plain"


def test_table_formats_numbers_and_escapes_text():
    frame = pd.DataFrame({"name": ["<b>", "ok"], "n": np.array([1234567, 2], dtype=np.int64),
                          "p": [0.81949, np.nan]})
    out = report_html.table(frame, table_id="t")
    assert out.startswith('<table id="t">')
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert '<td class="num">1,234,567</td>' in out
    assert '<td class="num">0.819</td>' in out


def test_steps_print_plain_lines_off_terminal():
    lines = []
    with Steps("report", bar=False, echo=lines.append) as steps:
        with steps.step("charts"):
            pass
        with pytest.raises(RuntimeError), steps.step("broken"):
            raise RuntimeError("x")
    assert len(lines) == 1 and re.fullmatch(r"report: charts \(\d+\.\d s\)", lines[0])
    assert set(steps.timings) == {"charts", "broken"}


# ---- one quick fit: the full report ----------------------------------------------------------


@pytest.mark.slow
def test_report_writes_charts_tables_html_and_manifest(quick_report):
    res = quick_report.result
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "organs not explained by declared sources under scenario baseline (sum over the years of max(gap, 0)" in res.stdout
    out = quick_report.out
    from PIL import Image

    for name in CHARTS:
        png, svg = out / "figures" / f"{name}.png", out / "figures" / f"{name}.svg"
        assert png.exists() and svg.exists(), name
        dpi = Image.open(png).info.get("dpi", (0, 0))
        assert round(dpi[0]) >= 200, (name, dpi)
        text = svg.read_text(encoding="utf-8")
        assert "Scenario: baseline" in text and "Source:" in text, name
    for name in TABLES:
        frame = pd.read_csv(out / "tables" / f"{name}.csv")
        assert len(frame) > 0, name
    for name in ["idata.nc", "gap_by_year.csv", "gap_by_period.csv", "evidence_used.csv",
                 "evidence_excluded.csv", "index.html", "manifest.json"]:
        assert (out / name).exists(), name
    assert not list(out.glob(".staging-*"))

    # the stacked declared sources are ordered draw by draw, so their quantiles are too
    d = pd.read_csv(out / "tables" / "declared_sources_by_year.csv")
    for q in ["q05", "median", "q95"]:
        assert (d[f"stack_prisoners_{q}"] <= d[f"stack_donors_{q}"] + 0.5).all()
        assert (d[f"stack_donors_{q}"] <= d[f"supply_{q}"] + 0.5).all()
    for what in ["volume", "supply", "gap", "prisoners", "donors", "living"]:
        assert (d[f"{what}_q05"] <= d[f"{what}_median"] + 0.5).all()
        assert (d[f"{what}_median"] <= d[f"{what}_q95"] + 0.5).all()
    assert d["p_gap_positive"].between(0, 1).all()
    gby = pd.read_csv(out / "gap_by_year.csv")
    np.testing.assert_allclose(d["gap_median"], gby["gap_median"], atol=1.0)
    # donors are zero before the donation system starts; prisoners after the declared end
    assert (d.loc[d["year"] < 2010, "donors_q95"] == 0).all()
    assert (d.loc[d["year"] > 2014, "prisoners_q95"] == 0).all()

    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["scenario"]["name"] == "baseline" and len(m["scenario"]["hash"]) == 64
    assert set(m["inputs"]["raw_files_sha256"]) >= {"sources.csv", "volumes.csv"}
    assert m["code_version"] and m["seed"] == m["sampler"]["seed"]
    assert m["sampler"]["draws"] == 200 and m["sampler"]["chains"] == 2
    assert set(m["diagnostics"]) >= {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed"}
    assert {"ingest_s", "fit_s", "fit", "report_steps", "report_s"} <= set(m["timings"])
    assert m["report"]["forensics"]["available"] is True
    for rel, digest in m["report"]["files"].items():
        assert sha256_file(out / rel) == digest, rel
    assert {f"figures/{c}.png" for c in CHARTS} <= set(m["report"]["files"])
    # ArviZ's own provenance attrs are kept beside tgap's
    import arviz as az

    attrs = az.from_netcdf(out / "idata.nc").posterior.attrs
    assert "arviz_version" in attrs and "created_at" not in attrs


@pytest.mark.slow
def test_index_html_is_self_contained_with_headline_and_sections(quick_report):
    assert quick_report.result.exit_code == 0
    out = quick_report.out
    page = (out / "index.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(srcs) >= len(CHARTS) and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(js|css)', page)  # nothing fetched
    assert not re.search(r"<script[^>]*\bsrc=", page)  # scripts (plotly.js) are inline
    assert 'id="plotly-gap_by_year"' in page and 'id="plotly-main"' in page
    assert 'id="headline-table"' in page
    per = pd.read_csv(out / "gap_by_period.csv")
    for r in per.itertuples():
        assert f"<td>{r.period}</td>" in page
        # the CSV keeps 0.1 organ; the page rounds the unrounded value to whole organs
        assert any(f"{v:,.0f}".replace("-", "−") in page
                   for v in (np.floor(r.gap_median), np.ceil(r.gap_median))), r.gap_median
        assert f"{r.p_gap_positive:.2f}" in page
    assert "Organs not explained by declared sources under scenario <strong>baseline</strong>" in page
    for section in ["headline", "charts", "assumptions", "predictive", "criticism", "diagnostics",
                    "data-quality", "sources", "sensitivity", "forensics", "tables", "manifest"]:
        assert f'<section id="{section}">' in page, section
    # sources with links, flags, the manifest verbatim
    src = pd.read_csv(out / "tables" / "sources.csv", keep_default_na=False)
    first = src[src["url"].str.startswith("http")].iloc[0]
    assert report_html.esc(first["url"]) in page
    assert "partial_year" in page and "repeated_value" in page
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert report_html.esc(m["fit_key"]) in page and report_html.esc(m["scenario"]["hash"]) in page
    # forensics read from the outputs of run_forensics (GODT present beside the checkout)
    assert (quick_report.forensics / "forensics.csv").exists()
    assert "Quadratic fits and their rank among GODT countries" in page
    # neutral wording in the page's own text (source titles may say anything)
    headline = page[page.index('<section id="headline">'):page.index('<section id="charts">')].lower()
    assert "organs not explained by declared sources under scenario" in headline
    for word in ["proves", "fabricat", "harvest", "forced", "genocide"]:
        assert word not in headline, word


@pytest.mark.slow
def test_second_report_reuses_fit_and_says_when_godt_is_absent(quick_report, tmp_path):
    assert quick_report.result.exit_code == 0
    out = quick_report.out
    before = (out / "gap_by_period.csv").read_bytes()
    empty = tmp_path / "no_godt"
    empty.mkdir()
    args = [a for a in quick_report.args] + ["--godt-dir", str(empty)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "fit loaded from cache" in res.stdout
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["from_cache"] is True
    assert (out / "gap_by_period.csv").read_bytes() == before
    # the report's idata.nc is the cached fit's file, copied byte for byte (not re-serialized)
    cached = quick_report.cache / m["fit_key"] / "idata.nc"
    assert sha256_file(out / "idata.nc") == sha256_file(cached)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert f"GODT exports not found in {empty}" in page
    assert "multi-country benchmark" in page
    assert "leave-one-origin-out loaded from cache" in res.stdout  # kept beside the cached fit


def test_report_criticises_claims_and_leaves_origins_out(quick_report):
    """Model criticism in the report: LOO per claim, the two claim tables, LOO-PIT drawn, and the
    leave-one-origin-out table whose '(none)' row equals a refit at the same settings."""
    assert quick_report.result.exit_code == 0
    out = quick_report.out
    loo = pd.read_csv(out / "loo_claims.csv", keep_default_na=False)
    ev = pd.read_csv(out / "evidence_used.csv", keep_default_na=False)
    counts = ev[ev["likelihood"] == "count"]
    closed = (counts["mode"] != "bound") & (counts["lo"] > -1e3) & (counts["hi"] < 1e3)
    assert len(loo) == int(closed.sum()) > 50  # one-sided claims (bounds, "over X") are not in LOO
    assert set(loo["obs_id"]) <= set(counts["obs_id"])
    assert pd.to_numeric(loo["pareto_k"]).notna().all()
    pit = pd.to_numeric(loo.loc[loo["mode"] == "point", "loo_pit"])
    assert pit.between(0, 1).all() and len(pit) > 20
    hist = pd.read_csv(out / "loo_pit_histogram.csv")
    assert hist["rows"].sum() == len(pit)
    page = (out / "index.html").read_text(encoding="utf-8")
    sec = page[page.index('<section id="criticism">'):]
    sec = sec[:sec.index("</section>")]
    assert 'id="influential-table"' in sec and 'id="worst-table"' in sec and 'id="leave-out-table"' in sec
    worst = loo.sort_values("elpd_loo").iloc[0]
    assert report_html.esc(worst["obs_id"]) in sec
    assert "figures/criticism.png" in json.loads((out / "manifest.json").read_text())["report"]["files"]
    lo = pd.read_csv(out / "tables" / "leave_origin_out.csv", keep_default_na=False)
    assert lo["left_out"].iloc[0] == "(none)" and "group:independent" in set(lo["left_out"])
    assert (lo["rows_left_out"] > 0).sum() == len(lo) - len(set(lo["period"]))
    shift = lo["unexplained_median"] - lo["period"].map(lo[lo["left_out"] == "(none)"].set_index("period")
                                                        ["unexplained_median"])
    np.testing.assert_allclose(shift, lo["shift_unexplained_median"], atol=0.5)


@pytest.mark.slow
def test_failed_report_leaves_previous_report_untouched(quick_report, monkeypatch):
    assert quick_report.result.exit_code == 0
    out = quick_report.out
    before = {p: p.read_bytes() for p in [out / "index.html", out / "manifest.json",
                                           out / "figures" / "main.png"]}
    import analysis.report.charts as charts

    def boom(*a, **k):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(charts, "plot_gap_by_year", boom)
    res = runner.invoke(app, quick_report.args + ["--no-forensics"])
    assert res.exit_code != 0
    assert isinstance(res.exception, RuntimeError)
    for p, content in before.items():
        assert p.read_bytes() == content, p
    assert not list(out.glob(".staging-*"))


@pytest.mark.slow
def test_quick_run_is_marked_and_every_result_sentence_is_generated(quick_report):
    from analysis.report import statements

    assert quick_report.result.exit_code == 0
    out = quick_report.out
    page = (out / "index.html").read_text(encoding="utf-8")
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["quick"] is True and "QUICK RUN" in m["run_status"]
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title.startswith("[QUICK RUN")
    lede = re.search(r'id="headline-sentence">(.*?)</p>', page).group(1)
    assert "[QUICK RUN" in lede
    per = pd.read_csv(out / "gap_by_period.csv")
    assert report_html.esc(statements.headline_sentence(per, "baseline")) in lede
    for name in CHARTS:  # every chart carries the marker
        assert "QUICK RUN" in (out / "figures" / f"{name}.svg").read_text(encoding="utf-8"), name
    # the calibration figures on the page are those of benchmarks/results/sbc.json (copied beside it)
    sbc = json.loads((out / "benchmarks" / "sbc.json").read_text(encoding="utf-8"))
    calib = re.search(r'id="calibration">(.*?)</p>', page).group(1)
    stated = {float(x) for x in re.findall(r"(\d+\.\d)%", calib)}
    assert stated == {round(100 * sbc["coverage_90"], 1), round(100 * sbc["coverage_50"], 1)}
    assert "less often than 90%" not in page
    # the data dictionary covers every CSV of the report
    pkg = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in pkg["resources"]} == {p.relative_to(out).as_posix() for p in out.rglob("*.csv")}
    assert "lo" not in pd.read_csv(out / "tables" / "posterior_predictive.csv").columns


@pytest.mark.slow
def test_report_folder_is_self_contained_and_survives_a_move(quick_report, tmp_path):
    assert quick_report.result.exit_code == 0
    out = quick_report.out
    assert (out / "forensics" / "forensics.csv").exists() and (out / "data" / "observations.csv").exists()
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(out, moved)
    from html.parser import HTMLParser

    class Links(HTMLParser):  # href/src of tags (not the text of the inline scripts)
        refs: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.refs += [v for k, v in attrs if k in ("href", "src") and v and not v.startswith("#")]

    parser = Links()
    parser.feed((moved / "index.html").read_text(encoding="utf-8"))
    refs = parser.refs
    local = [r for r in refs if not r.startswith(("http://", "https://", "data:"))]
    assert len(local) >= 20
    for ref in local:
        assert not ref.startswith(("/", "..")), ref
        assert (moved / ref).exists(), ref
    m = json.loads((moved / "manifest.json").read_text(encoding="utf-8"))
    assert m["report"]["forensics"]["dir"] == "forensics"


def test_unknown_leave_out_group_exits_2_before_any_fit(tmp_path):
    out = tmp_path / "report"
    res = runner.invoke(app, ["report", "--quick", "--derived", str(tmp_path / "derived"), "--out", str(out),
                              "--leave-out-groups", "dui_hua,no_such_origin"])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert "no_such_origin" in res.stderr and "allowed:" in res.stderr and "dui_hua" in res.stderr
    assert "report: scenario" not in res.stdout and not out.exists()


@pytest.mark.slow
def test_rerun_reuses_charts_and_tables_byte_for_byte(quick_report):
    """Charts drawn afresh and charts read from the chart cache give the same bytes (and the same
    sha256 in the manifest); a damaged cache entry is drawn again; the fit's tables come from beside
    the cached fit."""
    from analysis.report import chart_cache

    assert quick_report.result.exit_code == 0
    out = quick_report.out
    args = quick_report.args + ["--no-forensics"]
    shutil.rmtree(chart_cache.cache_dir(), ignore_errors=True)  # every chart drawn again

    def run():
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.stdout + res.stderr
        m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        drawn = sorted(f[len("figures/"):-4] for f in m["report"]["files"]
                       if f.startswith("figures/") and f.endswith(".svg"))
        figs = {f: (out / f).read_bytes() for f in m["report"]["files"] if f.startswith("figures/")}
        return m, drawn, figs

    m1, charts1, figs1 = run()
    assert m1["timings"]["charts_from_cache"] == [] and set(CHARTS) <= set(charts1)
    m2, charts2, figs2 = run()
    assert sorted(m2["timings"]["charts_from_cache"]) == charts1 == charts2
    assert figs2 == figs1  # reused == drawn, byte for byte
    assert {f: m2["report"]["files"][f] for f in figs2} == {f: m1["report"]["files"][f] for f in figs1}
    for f in figs2:
        assert sha256_file(out / f) == m2["report"]["files"][f], f
    assert {"summarize_fit", "declared_sources_table", "diagnostics_table",
            "predictive_table"} <= set(m2["timings"]["tables_from_cache"])
    # a damaged entry (the main chart's PNG truncated) is drawn again, the others reused
    meta = next(p for p in chart_cache.cache_dir().glob("*.json")
                if json.loads(p.read_text(encoding="utf-8"))["chart"] == "main")
    png = meta.with_suffix(".png")
    png.write_bytes(png.read_bytes()[:1000])
    m3, _, figs3 = run()
    assert "main" not in m3["timings"]["charts_from_cache"]
    assert sorted(m3["timings"]["charts_from_cache"] + ["main"]) == charts1
    assert figs3 == figs1
