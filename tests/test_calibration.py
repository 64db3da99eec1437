"""Calibration metrics (issue 14) on hand-made cases: coverage, sign errors and power computed
correctly. Pure functions; no sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.validation.calibration import confident_sign_error, metrics, power, summaries


def _rows(truths, q05, q95, p, q25=None, q75=None, kind="period", quantity="gap", label="a-b"):
    n = len(truths)
    return pd.DataFrame({"kind": kind, "label": label, "quantity": quantity, "truth": truths,
                         "median": 0.0, "q05": q05, "q25": q25 if q25 is not None else q05,
                         "q75": q75 if q75 is not None else q95, "q95": q95, "p_positive": p,
                         "dataset": range(n)})


def test_summaries_quantiles_and_period_sums():
    years = np.array([2000, 2001, 2002])
    # draws 0..100 for each year shifted: year j has draws (0..100) - 50 + 10 j
    base = np.arange(101, dtype=float) - 50
    gap = np.vstack([base + 10 * j for j in range(3)])
    truth = np.array([-5.0, 20.0, 70.0])
    t = summaries(gap, truth, years, [(2000, 2001), (2000, 2002)])
    y = t[t["kind"] == "year"].set_index("label")
    assert y.loc["2000", "q05"] == pytest.approx(-45.0)
    assert y.loc["2000", "q95"] == pytest.approx(45.0)
    assert y.loc["2001", "p_positive"] == pytest.approx(60 / 101)
    p = t[(t["kind"] == "period")].set_index(["label", "quantity"])
    assert p.loc[("2000-2001", "gap"), "truth"] == 15.0
    assert p.loc[("2000-2001", "unexplained"), "truth"] == 20.0
    assert p.loc[("2000-2002", "unexplained"), "truth"] == 90.0
    # the period's signed draws are the sums (2 base + 10), the unexplained the sums of max(., 0)
    assert p.loc[("2000-2001", "gap"), "median"] == pytest.approx(10.0)
    assert p.loc[("2000-2001", "unexplained"), "median"] == pytest.approx(np.median(
        np.maximum(base, 0) + np.maximum(base + 10, 0)))
    assert np.isnan(p.loc[("2000-2001", "unexplained"), "p_positive"])
    with pytest.raises(ValueError, match="do not match 3 years"):
        summaries(gap[:2], truth, years, [])


def test_coverage_counts_truth_inside_interval_inclusive():
    # 4 datasets: inside, on the edge (counts), above, below -> 90% coverage 0.5
    t = _rows([5.0, 10.0, 11.0, -1.0], q05=[0, 0, 0, 0], q95=[10, 10, 10, 10], p=[0.5] * 4,
              q25=[4, 9, 4, 4], q75=[6, 10, 6, 6])
    m = metrics(t)["period_gap"]
    assert m["coverage_90"] == 0.5
    assert m["coverage_50"] == 0.5  # 5 in [4, 6], 10 in [9, 10]
    assert m["rows"] == 4


def test_confident_sign_errors():
    t = _rows([0.0, -3.0, 5.0, 5.0, -1.0], q05=[0] * 5, q95=[1] * 5, p=[0.96, 0.5, 0.04, 0.5, 0.2])
    assert confident_sign_error(t).tolist() == [True, False, True, False, False]
    m = metrics(t)["period_gap"]
    assert m["confident_sign_errors"] == 2
    assert m["confident_sign_error_rate"] == 0.4
    assert m["true_nonpositive"] == 3
    assert m["false_positive_rate"] == pytest.approx(1 / 3)


def test_power_by_true_gap_and_smallest_detected():
    truths = [-100.0, 5_000.0, 5_000.0, 20_000.0, 20_000.0, 60_000.0, 60_000.0, 60_000.0, 60_000.0, 60_000.0]
    p = [0.99, 0.2, 0.99, 0.99, 0.96, 0.99, 0.99, 0.99, 0.99, 0.5]
    t = _rows(truths, q05=[0] * 10, q95=[1] * 10, p=p)
    out = power(t)
    bins = {b["true_gap_from"]: b for b in out["by_true_gap"]}
    assert bins[0.0]["datasets"] == 2 and bins[0.0]["detected"] == 0.5
    assert bins[10_000.0]["detected"] == 1.0
    assert bins[50_000.0]["detected"] == 0.8
    assert bins[100_000.0]["datasets"] == 0 and bins[100_000.0]["detected"] is None
    assert out["smallest_bin_detected_80"] == 10_000.0
    assert out["detected_overall"] == 0.8
    # a true gap of exactly 0 is no gap: it falls in the (-inf, 0] bin, whose detections are false
    # positives, and never counts as the smallest detected gap
    zero = power(_rows([0.0] * 5 + [20_000.0] * 5, q05=[0] * 10, q95=[1] * 10, p=[0.99] * 10))
    bins = {b["true_gap_to"]: b for b in zero["by_true_gap"]}
    assert bins[0.0]["datasets"] == 5 and bins[0.0]["detected"] == 1.0
    assert bins[10_000.0]["datasets"] == 0
    assert zero["smallest_bin_detected_80"] == 10_000.0
