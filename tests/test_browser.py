"""Open the report's index.html in a real headless Chromium (selenium + chromedriver).

Asserts that every image decoded (naturalWidth > 0), the console has no errors, the headline table
is there; saves a screenshot beside the report (screenshot.png). Skips, saying why, only where
Chromium, chromedriver or selenium cannot be found (.ci/run installs the Debian packages).
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = [os.environ.get("TGAP_CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser",
            shutil.which("chromium") or "", shutil.which("google-chrome") or ""]
DRIVER = [os.environ.get("TGAP_CHROMEDRIVER", ""), "/usr/bin/chromedriver", shutil.which("chromedriver") or ""]


def _first(paths: list[str]) -> str | None:
    return next((p for p in paths if p and os.path.exists(p)), None)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    binary, driver = _first(CHROMIUM), _first(DRIVER)
    if not binary or not driver:
        pytest.skip("Chromium or chromedriver not found (Debian: apt-get install chromium chromium-driver; "
                    ".ci/run installs them where apt-get is available)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000", "--allow-file-access-from-files"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_page_load_timeout(120)
    try:
        yield d
    finally:
        d.quit()


def load(browser, page) -> None:
    """Open a report page and wait (up to 120 s) until it is complete and its inline plotly.js has
    run: the page is ~10 MB (images and ~4 MB of script inline), and on a loaded machine get() was
    seen returning before it was (CI: no images yet, or window.Plotly undefined)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 120).until(lambda d: d.execute_script("return document.readyState") == "complete"
                                      and d.execute_script("return typeof window.Plotly") == "object")


@pytest.mark.slow
def test_report_renders_in_chromium(quick_report, browser):
    assert quick_report.result.exit_code == 0, quick_report.result.stdout + quick_report.result.stderr
    load(browser, quick_report.out / "index.html")
    images = browser.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
        "w: i.naturalWidth, h: i.naturalHeight}))")
    assert len(images) >= 10
    broken = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
    assert not broken, f"images that did not decode: {broken}"
    rows = browser.execute_script(
        "const t = document.getElementById('headline-table'); "
        "return t ? Array.from(t.querySelectorAll('tbody tr')).map(r => r.innerText) : null")
    assert rows and len(rows) == 3, rows
    assert all("to" in r for r in rows)
    title = browser.execute_script("return document.title")
    assert "Organs not explained by declared sources" in title and "baseline" in title
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    shot = quick_report.out / "screenshot.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_interactive_charts_work_offline_and_hover_matches_gap_by_year(quick_report, browser):
    import re

    import pandas as pd

    assert quick_report.result.exit_code == 0
    load(browser, quick_report.out / "index.html")
    assert browser.execute_script("return typeof window.Plotly") == "object"  # plotly.js embedded
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => /^https?:/.test(n))")
    assert fetched == [], fetched  # nothing loaded from the network
    gby = pd.read_csv(quick_report.out / "gap_by_year.csv")
    year = 2015
    row = gby[gby["year"] == year].iloc[0]
    trace = browser.execute_script(
        "const d = document.getElementById('plotly-gap_by_year').data;"
        "const i = d.findIndex(t => t.name === 'median'); const t = d[i];"
        f"const j = Array.from(t.x).indexOf({year});"
        "return {i: i, j: j, y: t.y[j], c: Array.from(t.customdata[j])};")
    assert trace["j"] >= 0
    assert abs(trace["y"] - row["gap_median"]) < 0.5
    assert abs(trace["c"][0] - row["gap_q05"]) < 0.5 and abs(trace["c"][1] - row["gap_q95"]) < 0.5
    # hover the point as a reader would: the tooltip shows the year, the median and the interval
    browser.execute_script(
        "const div = document.getElementById('plotly-gap_by_year'); div.scrollIntoView();"
        f"Plotly.Fx.hover(div, [{{curveNumber: {trace['i']}, pointNumber: {trace['j']}}}]);")
    text = browser.execute_script(  # one line of the tooltip per tspan
        "const lines = Array.from(document.querySelectorAll('#plotly-gap_by_year .hoverlayer tspan.line'));"
        "return lines.length ? lines.map(t => t.textContent).join('\\n') "
        ": document.querySelector('#plotly-gap_by_year .hoverlayer').textContent")
    assert f"year {year}" in text, text
    numbers = [float(n.replace(",", "").replace("\u2212", "-"))
               for n in re.findall(r"[\u2212-]?\d[\d,]*(?:\.\d+)?", text.split(f"year {year}")[1])]
    for value in (row["gap_median"], row["gap_q05"], row["gap_q95"]):
        assert any(abs(n - round(value)) <= 1 for n in numbers), (value, text)
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    browser.save_screenshot(str(quick_report.out / "screenshot_interactive.png"))
