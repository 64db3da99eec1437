"""The chart cache (analysis/report/chart_cache.py): an unchanged chart is reused byte for byte,
a changed input or plotting function re-renders, a damaged entry is ignored and re-rendered.

Tiny synthetic inputs (a 12-year gap table), the real report chart functions; no fitting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from analysis.report import chart_cache, charts

ROOT = Path(__file__).resolve().parents[1]


def _gap_table(shift: float = 0.0) -> pd.DataFrame:
    years = np.arange(2000, 2012)
    med = 1000 + 50 * (years - 2000) + shift
    return pd.DataFrame({"year": years, "gap_median": med, "gap_q05": med - 400, "gap_q25": med - 150,
                         "gap_q75": med + 150, "gap_q95": med + 400,
                         "p_gap_positive": np.linspace(0.6, 0.99, len(years))})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "chart-cache"
    monkeypatch.setattr(chart_cache, "DIR", d)
    return d


def _files(stem: Path) -> dict[str, bytes]:
    return {fmt: stem.with_suffix(f".{fmt}").read_bytes() for fmt in chart_cache.FORMATS}


def test_second_render_comes_from_the_cache_with_identical_bytes(cache, tmp_path):
    g = _gap_table()
    a, b, c = tmp_path / "a" / "gap", tmp_path / "b" / "gap", tmp_path / "c" / "gap"
    assert chart_cache.render(a, charts.plot_gap_by_year, g, "baseline") is False  # drawn, stored
    assert len(list(cache.glob("*.json"))) == 1
    assert chart_cache.render(b, charts.plot_gap_by_year, g.copy(), "baseline") is True  # reused
    # a render that bypasses the cache gives the same bytes: reused == re-rendered
    assert chart_cache.render(c, charts.plot_gap_by_year, g, "baseline", use_cache=False) is False
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert fa == fb == fc
    assert fa["png"].startswith(b"\x89PNG") and b"<svg" in fa["svg"]
    assert b"Scenario: baseline" in fa["svg"]


def test_changed_inputs_label_or_function_re_render(cache, tmp_path):
    g = _gap_table()
    base = tmp_path / "base" / "gap"
    assert chart_cache.render(base, charts.plot_gap_by_year, g, "baseline") is False
    changed = g.copy()
    changed.loc[3, "gap_median"] += 1.0  # one value of what the chart is drawn from
    assert chart_cache.render(tmp_path / "v" / "gap", charts.plot_gap_by_year, changed, "baseline") is False
    assert _files(tmp_path / "v" / "gap")["png"] != _files(base)["png"]
    assert chart_cache.render(tmp_path / "s" / "gap", charts.plot_gap_by_year, g, "other") is False
    # the watermark of a quick run is part of the chart
    assert chart_cache.render(tmp_path / "q" / "gap", charts.plot_gap_by_year, g, "baseline",
                              label="QUICK RUN") is False
    assert b"QUICK RUN" in _files(tmp_path / "q" / "gap")["svg"]
    assert b"QUICK RUN" not in _files(base)["svg"]

    def other_chart(table, scenario):  # another plotting function, same arguments
        return charts.plot_gap_by_year(table, scenario)

    assert chart_cache.render(tmp_path / "f" / "gap", other_chart, g, "baseline") is False
    assert len(list(cache.glob("*.json"))) == 5
    # and each is reused once it is there
    assert chart_cache.render(tmp_path / "v2" / "gap", charts.plot_gap_by_year, changed, "baseline") is True


@pytest.mark.parametrize("damage", ["truncate_png", "flip_svg", "garbage_json", "no_json", "no_png"])
def test_damaged_entry_is_ignored_and_re_rendered(cache, tmp_path, damage):
    g = _gap_table()
    first = tmp_path / "first" / "gap"
    assert chart_cache.render(first, charts.plot_gap_by_year, g, "baseline") is False
    (meta,) = cache.glob("*.json")
    png, svg = meta.with_suffix(".png"), meta.with_suffix(".svg")
    if damage == "truncate_png":
        png.write_bytes(png.read_bytes()[:100])
    elif damage == "flip_svg":
        data = bytearray(svg.read_bytes())
        data[len(data) // 2] ^= 0x01  # same size, other bytes
        svg.write_bytes(bytes(data))
    elif damage == "garbage_json":
        meta.write_text("{not json", encoding="utf-8")
    elif damage == "no_json":
        meta.unlink()
    else:
        png.unlink()
    again = tmp_path / "again" / "gap"
    assert chart_cache.render(again, charts.plot_gap_by_year, g, "baseline") is False  # drawn again
    assert _files(again) == _files(first)  # the report gets the right bytes, not the damaged ones
    # the new render replaced the bad entry: the next one is reused
    assert chart_cache.render(tmp_path / "third" / "gap", charts.plot_gap_by_year, g, "baseline") is True
    assert json.loads(meta.read_text(encoding="utf-8"))["files"]["png"]["bytes"] == len(_files(first)["png"])


def test_unwritable_cache_costs_a_render_not_the_chart(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setattr(chart_cache, "DIR", blocker / "charts")  # mkdir under a file fails
    stem = tmp_path / "out" / "gap"
    assert chart_cache.render(stem, charts.plot_gap_by_year, _gap_table(), "baseline") is False
    assert chart_cache.render(stem, charts.plot_gap_by_year, _gap_table(), "baseline") is False
    assert stem.with_suffix(".png").is_file() and stem.with_suffix(".svg").is_file()


def test_key_covers_exactly_the_inputs():
    g = _gap_table()
    key = chart_cache.chart_key(charts.plot_gap_by_year, (g, "baseline"), {}, "")
    assert key == chart_cache.chart_key(charts.plot_gap_by_year, (g.copy(), "baseline"), {}, "")
    assert key != chart_cache.chart_key(charts.plot_gap_by_year, (g.astype({"year": float}), "baseline"), {}, "")
    assert key != chart_cache.chart_key(charts.plot_gap_by_year, (g.iloc[::-1], "baseline"), {}, "")
    assert key != chart_cache.chart_key(charts.plot_gap_by_year, (g.rename(columns={"gap_q05": "x"}),
                                                                  "baseline"), {}, "")
    da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("chain", "draw"), name="a")
    ds = xr.Dataset({"a": da})
    k1 = chart_cache.chart_key(charts.plot_trace, (ds, "s"), {}, "")
    ds2 = ds.copy(deep=True)
    ds2["a"][1, 2] = -1.0
    assert k1 != chart_cache.chart_key(charts.plot_trace, (ds2, "s"), {}, "")
    assert k1 == chart_cache.chart_key(charts.plot_trace, (ds.copy(deep=True), "s"), {}, "")
    # the plotting code: the function's module and the tgap modules it names (criticism's 0.7 line)
    from analysis.report import criticism_section

    files = {Path(f).relative_to(ROOT).as_posix() for f in chart_cache.code_files(criticism_section.plot_criticism)}
    assert {"analysis/report/criticism_section.py", "analysis/model/criticism.py", "analysis/style.py"} <= files
    with pytest.raises(TypeError, match="cannot hash"):
        chart_cache.chart_key(charts.plot_trace, (object(), "s"), {}, "")


def test_key_is_the_same_in_two_fresh_processes():
    """Nothing process-specific (ids, addresses, hash seeds) in the key: a new process hits the cache."""
    code = ("import numpy as np, pandas as pd\n"
            "from analysis.report import chart_cache, charts\n"
            "g = pd.DataFrame({'year': np.arange(2000, 2005), 'gap_median': np.arange(5.0), 's': list('abcde')})\n"
            "print(chart_cache.chart_key(charts.plot_gap_by_year, (g, 'baseline'), {'x': {'b': 1, 'a': [2]}}, ''))\n")
    keys = []
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg",
                                  "PATH": "/usr/bin:/bin"}, check=True)
        keys.append(out.stdout.strip())
    assert len(keys[0]) == 32 and keys[0] == keys[1]


def test_prune_keeps_the_most_recently_used(cache, tmp_path):
    import os

    cache.mkdir(parents=True)
    for i in range(5):
        for suffix in (".json", ".png", ".svg"):
            p = cache / f"k{i}{suffix}"
            p.write_text("x", encoding="utf-8")
            os.utime(p, (1000 + i, 1000 + i))
    assert chart_cache.prune(cache, keep=2) == 3
    assert sorted(p.name for p in cache.iterdir()) == ["k3.json", "k3.png", "k3.svg", "k4.json", "k4.png",
                                                        "k4.svg"]
