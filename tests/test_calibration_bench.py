"""benchmarks/calibration_worlds.py end to end with the sampler replaced by draws around the
truth (no compilation, no sampling): the JSON has its fields and the metrics are what the draws
imply."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np

from tests.conftest import REPO


def _bench():
    spec = importlib.util.spec_from_file_location("calibration_worlds", REPO / "benchmarks" / "calibration_worlds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_writes_json_with_metrics(tmp_path, monkeypatch):
    mod = _bench()

    def fake_fits(datasets, template_ev, scenario, seed, chains, tune, draws):
        spread = np.linspace(-1.0, 1.0, 101)  # symmetric around the truth: always covered
        for i, (_, truth) in enumerate(datasets):
            gap = truth["gap"].to_numpy()[:, None] + 100.0 * spread[None, :]
            yield i, truth, gap, 0, "mode", 0.01

    monkeypatch.setattr(mod, "fit_gap_draws", fake_fits)
    out = tmp_path / "calib.json"
    monkeypatch.setattr(sys, "argv", ["calibration_worlds.py", "--datasets", "2", "--worlds",
                                      "official,hidden_volume", "--quick", "--out", str(out)])
    mod.main()
    res = json.loads(out.read_text())
    assert res["chains"] == 2 and res["tune"] == 300 and res["draws"] == 200
    assert set(res["worlds"]) == {"official", "hidden_volume"}
    off = res["worlds"]["official"]
    assert off["datasets"] == 2
    assert set(off["metrics"]) == {"year_gap", "period_gap", "period_unexplained"}
    yg = off["metrics"]["year_gap"]
    assert yg["rows"] == 2 * 25
    assert yg["coverage_90"] == 1.0 and yg["coverage_50"] == 1.0
    # official: every true gap is 0, draws symmetric around it -> P(gap > 0) = 0.5, no sign errors
    assert yg["confident_sign_errors"] == 0 and yg["true_nonpositive"] == 50
    pg = off["metrics"]["period_gap"]
    assert pg["rows"] == 2 * 3 and pg["power"]["detected_overall"] == 0.0
    assert set(pg["by_period"]) == {"2000-2005", "2006-2014", "2015-2024"}
    # hidden_volume: the 2006-2014 true gap is tens of thousands; draws +-100 around it are confident
    hv = res["worlds"]["hidden_volume"]["metrics"]["period_gap"]
    assert hv["by_period"]["2006-2014"]["truth_median"] > 200_000
    assert hv["by_period"]["2006-2014"]["p_positive_median"] == 1.0
