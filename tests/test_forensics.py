"""Forensic checks: analytic fits, exact benchmark percentiles, ratios, consistency, the full run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import percentileofscore

from analysis.data.godt import FORMATS
from analysis.data.ingest import OBSERVATION_COLUMNS
from analysis.forensics import benchmark, consistency, ratios
from analysis.forensics.fits import aic, fit_curve, fit_series, fits_table, r_squared, year_index
from analysis.forensics.rank import consecutive_runs, percentile_of, years_label
from analysis.forensics.run import COLUMNS, official_donor_series, run_forensics, target_series

YEARS = np.arange(2010, 2019)  # 9 years, x = 1..9
X = np.arange(1.0, 10.0)

# --- fits: analytic answers ----------------------------------------------------------------------


def test_year_index_convention() -> None:
    assert year_index([2010, 2011, 2014]).tolist() == [1.0, 2.0, 5.0]
    with pytest.raises(ValueError, match="strictly increasing"):
        year_index([2011, 2010])


def test_exact_quadratic_gives_r2_one_and_its_coefficients() -> None:
    y = 3 * X**2 + 2 * X + 1
    f = fit_curve(YEARS, y, "quadratic")
    assert f.r2 == pytest.approx(1.0, abs=1e-12)
    assert f.one_minus_r2 == pytest.approx(0.0, abs=1e-12)
    assert f.coefficients["a"] == pytest.approx(3, rel=1e-9)
    assert f.coefficients["b"] == pytest.approx(2, rel=1e-9)
    assert f.coefficients["c"] == pytest.approx(1, rel=1e-9)
    assert np.max(np.abs(f.residuals)) < 1e-9
    assert f.predict([10.0])[0] == pytest.approx(3 * 100 + 2 * 10 + 1)


def test_exact_one_parameter_quadratic() -> None:
    y = 117.0 * X**2
    origin = fit_curve(YEARS, y, "quadratic_origin")
    assert origin.coefficients == {"a": pytest.approx(117.0, rel=1e-12)}
    assert origin.r2 == pytest.approx(1.0, abs=1e-12)
    general = fit_curve(YEARS, y, "quadratic")
    assert general.coefficients["a"] == pytest.approx(117.0, rel=1e-9)
    assert general.coefficients["b"] == pytest.approx(0.0, abs=1e-7)
    assert general.coefficients["c"] == pytest.approx(0.0, abs=1e-7)


def test_exact_exponential_and_linear() -> None:
    f = fit_curve(YEARS, 5.0 * np.exp(0.3 * X), "exponential")
    assert f.converged
    assert f.coefficients["A"] == pytest.approx(5.0, rel=1e-6)
    assert f.coefficients["r"] == pytest.approx(0.3, rel=1e-6)
    assert f.r2 == pytest.approx(1.0, abs=1e-10)
    lin = fit_curve(YEARS, 4 * X + 1, "linear")
    assert lin.coefficients == {"b": pytest.approx(4.0), "c": pytest.approx(1.0)}


def test_cumulative_of_linear_series_is_exact_quadratic() -> None:
    # annual 4x + 1  ->  running total sum_{t<=x} (4t + 1) = 2x² + 3x
    fits = {(f.form, f.model): f for f in fit_series(YEARS, 4 * X + 1)}
    assert set(fits) == {(form, m) for form in ("annual", "cumulative")
                         for m in ("quadratic", "quadratic_origin", "linear", "exponential")}
    cum = fits[("cumulative", "quadratic")]
    assert cum.y.tolist() == (2 * X**2 + 3 * X).tolist()
    assert cum.r2 == pytest.approx(1.0, abs=1e-12)
    assert cum.coefficients["a"] == pytest.approx(2.0, rel=1e-9)
    assert cum.coefficients["b"] == pytest.approx(3.0, rel=1e-9)
    assert cum.coefficients["c"] == pytest.approx(0.0, abs=1e-8)
    assert fits[("annual", "linear")].r2 == pytest.approx(1.0, abs=1e-12)


def noisy() -> np.ndarray:
    rng = np.random.default_rng(20191114)
    return 50 * X**2 + 30 * X + 10 + rng.normal(0, 40, X.size)


def test_noisy_r2_matches_independent_numpy() -> None:
    y = noisy()
    sst = np.sum((y - y.mean()) ** 2)
    poly = np.polyval(np.polyfit(X, y, 2), X)
    want_quad = 1 - np.sum((y - poly) ** 2) / sst
    want_lin = np.corrcoef(X, y)[0, 1] ** 2
    a = np.sum(X**2 * y) / np.sum(X**4)
    want_origin = 1 - np.sum((y - a * X**2) ** 2) / sst
    got = {f.model: f for f in fit_series(YEARS, y, forms=("annual",))}
    assert got["quadratic"].r2 == pytest.approx(want_quad, abs=1e-9)
    assert got["linear"].r2 == pytest.approx(want_lin, abs=1e-9)
    assert got["quadratic_origin"].r2 == pytest.approx(want_origin, abs=1e-9)
    assert got["quadratic_origin"].coefficients["a"] == pytest.approx(a, rel=1e-9)
    assert 0.9 < want_quad < 1.0  # the noise is real
    ssr = np.sum((y - poly) ** 2)
    assert got["quadratic"].aic == pytest.approx(9 * math.log(ssr / 9) + 2 * 3, rel=1e-9)
    table = fits_table(got.values())
    assert table.set_index("model").loc["quadratic", "one_minus_r2"] == pytest.approx(1 - want_quad, abs=1e-9)


def test_fit_edge_cases() -> None:
    assert math.isnan(r_squared(np.array([5.0, 5.0, 5.0]), np.array([5.0, 5.0, 5.0])))
    assert aic(np.zeros(4), 2) == float("-inf")
    with pytest.raises(ValueError, match="quadratic needs at least 4 points, got 3"):
        fit_curve([2010, 2011, 2012], [1.0, 2.0, 3.0], "quadratic")
    with pytest.raises(ValueError, match="unknown model"):
        fit_curve(YEARS, X, "cubic")
    # gaps: annual fitted with x in calendar years, cumulative skipped
    fits = fit_series([2015, 2016, 2020, 2021, 2022], [1.0, 4.0, 36.0, 49.0, 64.0], ("quadratic_origin",))
    assert [(f.form, f.model) for f in fits] == [("annual", "quadratic_origin")]
    assert fits[0].x.tolist() == [1.0, 2.0, 6.0, 7.0, 8.0]
    assert fits[0].r2 == pytest.approx(1.0, abs=1e-12)


def test_percentile_and_labels() -> None:
    vals = [1.0, 2.0, 3.0, 4.0, float("nan")]
    assert percentile_of(vals, 2.5) == 50.0
    assert percentile_of(vals, 2.0) == 37.5
    assert percentile_of(vals, 0.0) == 0.0 and percentile_of(vals, 9.0) == 100.0
    assert percentile_of(vals, 3.0) == percentileofscore([1, 2, 3, 4], 3, kind="mean")
    assert math.isnan(percentile_of([], 1.0))
    assert years_label([2016, 2010, 2011, 2012, 2020, 2021]) == "2010-2012,2016,2020-2021"
    assert consecutive_runs([2003, 2001, 2002, 2007]) == [(2001, 2003), (2007, 2007)]


# --- benchmark: an analytic country set ------------------------------------------------------------
# q = 100 x² plus k times e = (1, -4, 6, -4, 1), which is orthogonal to 1, x and x² on x = 1..5.
# So the quadratic fit returns q exactly, SSR = 70 k², SST = 3,740,000 + 70 k², and
# 1 - R² = 70 k² / (3,740,000 + 70 k²), increasing in k.

Q = 100.0 * np.arange(1, 6) ** 2
E = np.array([1.0, -4.0, 6.0, -4.0, 1.0])
WINDOW = list(range(2011, 2016))


def one_minus_r2(k: float) -> float:
    return 70 * k**2 / (3_740_000 + 70 * k**2)


def synthetic_godt() -> pd.DataFrame:
    rows = []

    def add(country, years, values):
        rows.extend({"country": country, "year": y, "actual_dd": v}
                    for y, v in zip(years, values, strict=True))

    for k in (1, 2, 3, 4, 5, 6):
        add(f"C{k}", WINDOW, Q + k * E)
    add("Long", range(2005, 2011), [7.0, 1.0, 9.0, 2.0, 8.0, 3.0])  # run 2005-2015, window 2011-2015
    add("Long", WINDOW, Q + 8 * E)
    add("Old", range(2001, 2006), Q + 10 * E)  # the later run is too short
    add("Old", range(2011, 2014), [5.0, 6.0, 7.0])
    add("Short", range(2012, 2016), [1.0, 2.0, 3.0, 4.0])
    add("Broken", WINDOW, [1.0, 2.0, 0.0, 4.0, 5.0])
    add("NaNland", WINDOW, [1.0, 2.0, 3.0, np.nan, 5.0])
    add("China", WINDOW, Q)  # excluded from its own benchmark
    return pd.DataFrame(rows)


def test_country_windows() -> None:
    godt = synthetic_godt()
    win = benchmark.country_windows(godt, length=5)
    assert sorted(win) == ["C1", "C2", "C3", "C4", "C5", "C6", "Long", "Old"]
    assert win["Long"].index.tolist() == WINDOW
    assert win["Old"].index.tolist() == list(range(2001, 2006))
    same = benchmark.country_windows(godt, years=WINDOW)
    assert sorted(same) == ["C1", "C2", "C3", "C4", "C5", "C6", "Long"]
    assert sorted(benchmark.country_windows(godt, length=5, min_run=6)) == ["Long"]
    pattern = benchmark.country_windows(godt, years=[2011, 2012, 2014, 2015], align="pattern")
    assert sorted(pattern) == ["C1", "C2", "C3", "C4", "C5", "C6", "Long", "Old"]
    assert pattern["Old"].index.tolist() == [2001, 2002, 2004, 2005]
    assert pattern["Long"].index.tolist() == [2011, 2012, 2014, 2015]
    assert pattern["C2"].tolist() == (Q + 2 * E)[[0, 1, 3, 4]].tolist()
    with_china = benchmark.country_windows(godt, length=5, exclude=())
    assert "China" in with_china
    assert benchmark.longest_run([2001, 2002, 2005, 2006]) == (2005, 2006)


def test_benchmark_rank_is_exact() -> None:
    godt = synthetic_godt()
    bench = benchmark.benchmark_fits(godt, length=5, models=("quadratic",), forms=("annual",))
    got = bench.set_index("country")["one_minus_r2"]
    for name, k in [("C1", 1), ("C3", 3), ("Long", 8), ("Old", 10)]:
        assert got[name] == pytest.approx(one_minus_r2(k), rel=1e-9)
    target = fit_series(WINDOW, Q + 3 * E, ("quadratic",), ("annual",))
    assert target[0].one_minus_r2 == pytest.approx(one_minus_r2(3), rel=1e-9)
    r = benchmark.rank_target(bench, target).iloc[0]
    # countries k = 1, 2 | 3 (tie) | 4, 5, 6, 8, 10: mid-rank percentile (2 + 0.5) / 8
    assert r["n_countries"] == 8 and r["n_excluded"] == 0
    assert r["percentile"] == pytest.approx(31.25)
    assert r["rank"] == 3
    median = (one_minus_r2(4) + one_minus_r2(5)) / 2
    assert r["median_one_minus_r2"] == pytest.approx(median, rel=1e-9)
    assert r["orders_of_magnitude"] == pytest.approx(math.log10(median / one_minus_r2(3)), rel=1e-6)
    assert r["share_10x"] == pytest.approx(1 / 8)  # only k = 10 has >= 10x (k² ratio > 10 from k >= 9.5)
    assert r["share_100x"] == 0.0


def test_benchmark_excludes_constant_series_and_nan_fits() -> None:
    godt = pd.concat([synthetic_godt(), pd.DataFrame(
        {"country": "Flat", "year": WINDOW, "actual_dd": [9.0] * 5})], ignore_index=True)
    bench = benchmark.benchmark_fits(godt, length=5, models=("quadratic",))
    assert "Flat" not in set(bench["country"])  # its running total would be fitted exactly
    assert bench.groupby("form")["country"].nunique().to_dict() == {"annual": 8, "cumulative": 8}
    bench = bench[bench["form"] == "annual"].copy()
    bench.loc[bench["country"] == "C6", "one_minus_r2"] = np.nan  # e.g. a failed fit
    r = benchmark.rank_target(bench, fit_series(WINDOW, Q + E, ("quadratic",), ("annual",))).iloc[0]
    assert r["n_countries"] == 7 and r["n_excluded"] == 1
    assert r["percentile"] == pytest.approx(100 * 0.5 / 7)


# --- ratios ------------------------------------------------------------------------------------------


def godt_rows(rows: list[dict]) -> pd.DataFrame:
    cols = ["country", "year", "actual_dd", "actual_dbd", "actual_dcd", "dd_kidney_tx",
            "dd_liver_tx", "total_heart_tx", "dd_lung_tx", "total_kidney_tx", "total_liver_tx"]
    return pd.DataFrame(rows).reindex(columns=cols).astype({c: float for c in cols[2:]})


def test_ratio_percentiles_exact() -> None:
    nan = np.nan
    godt = godt_rows([
        dict(country="A", year=2020, actual_dd=100, dd_kidney_tx=60, dd_liver_tx=40, total_heart_tx=0, dd_lung_tx=0,
             total_kidney_tx=100, total_liver_tx=50, actual_dbd=100, actual_dcd=0),
        dict(country="B", year=2020, actual_dd=100, dd_kidney_tx=120, dd_liver_tx=60, total_heart_tx=10, dd_lung_tx=10,
             total_kidney_tx=200, total_liver_tx=50, actual_dbd=80, actual_dcd=20),
        dict(country="C", year=2020, actual_dd=100, dd_kidney_tx=180, dd_liver_tx=100, total_heart_tx=10, dd_lung_tx=10,
             total_kidney_tx=300, total_liver_tx=50, actual_dbd=60, actual_dcd=40),
        dict(country="D", year=2020, actual_dd=100, dd_kidney_tx=200, dd_liver_tx=150, total_heart_tx=nan, dd_lung_tx=50,
             total_kidney_tx=400, total_liver_tx=50, actual_dbd=nan, actual_dcd=10),
        dict(country="E", year=2020, actual_dd=100, dd_kidney_tx=200, dd_liver_tx=nan, total_heart_tx=1, dd_lung_tx=1),
        dict(country="F", year=2020, actual_dd=0, dd_kidney_tx=5, dd_liver_tx=5),
        dict(country="China", year=2020, actual_dd=1000, dd_kidney_tx=2000, dd_liver_tx=1000, total_heart_tx=300,
             dd_lung_tx=200, total_kidney_tx=2000, total_liver_tx=1000, actual_dbd=400, actual_dcd=600),
    ])
    long = ratios.godt_ratios(godt)
    per_donor = long[long["ratio"] == "transplants_per_donor"].set_index("country")["value"]
    assert per_donor.to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0, "China": 3.5, "D": 4.0}
    pct = ratios.ratio_percentiles(long, "China").set_index("ratio")
    tpd = pct.loc["transplants_per_donor"]
    assert (tpd["target_value"], tpd["n_countries"], tpd["percentile"]) == (3.5, 4, 75.0)
    assert (tpd["min"], tpd["median"], tpd["max"]) == (1.0, 2.5, 4.0)
    assert tpd["p05"] == pytest.approx(np.percentile([1, 2, 3, 4], 5))
    k2l = pct.loc["kidney_to_liver"]  # others 2, 4, 6, 8; China 2
    assert (k2l["target_value"], k2l["n_countries"], k2l["percentile"]) == (2.0, 4, 12.5)
    dcd = pct.loc["dcd_share"]  # others 0, 0.2, 0.4 (D has no DBD figure); China 0.6
    assert (dcd["target_value"], dcd["n_countries"], dcd["percentile"]) == (0.6, 3, 100.0)
    assert ratios.ratio_percentiles(long, "Nowhere").empty


def test_observation_organs_per_donor() -> None:
    d = dict(donor_type="deceased", source_kind="official_statement")
    obs = frame([
        ob("d15", year=2015, value=2766.0, source_id="A", **d),
        ob("o15", year=2015, value=7758.0, source_id="A", unit="organs", **d),
        ob("o15b", year=2015, value=9999.0, source_id="B", unit="organs", **d),  # no donors from B
        ob("dc", year=2010, year_end=2018, value=18000.0, source_id="C", kind="cumulative", **d),
        ob("oc", year=2010, year_end=2018, value=52000.0, source_id="C", unit="organs",
           kind="cumulative", **d),
        ob("dp", year=2016, value=100.0, source_id="A", flag="partial_year", **d),
        ob("op", year=2016, value=300.0, source_id="A", unit="organs", flag="partial_year", **d),
    ])
    got = ratios.observation_organs_per_donor(obs)
    assert got[["source_id", "kind", "year", "year_end"]].values.tolist() == [
        ["A", "reported", 2015, 2015], ["C", "cumulative", 2010, 2018]]
    assert got["organs_per_donor"].tolist() == [7758 / 2766, 52000 / 18000]
    assert got["obs_ids"].tolist() == ["d15;o15", "dc;oc"]
    assert ratios.observation_organs_per_donor(None).empty


# --- consistency -------------------------------------------------------------------------------------


def ob(obs_id: str, **kw) -> dict:
    row = dict.fromkeys(OBSERVATION_COLUMNS, "")
    row.update(obs_id=obs_id, family="donation", series="s", year=2018, value=1.0, unit="donors",
               kind="reported", source_id="S1", source_kind="official_statement")
    row.update(kw)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)
    df["year_end"] = pd.to_numeric(df["year_end"].replace("", np.nan)).astype("Int64")
    return df


def test_source_disagreements() -> None:
    obs = frame([
        ob("a", value=100.0, source_id="S1", donor_type="deceased"),
        ob("b", value=120.0, source_id="S2", donor_type="deceased", source_kind="news"),
        ob("c", value=100.0, source_id="S3", donor_type="deceased"),  # agrees with a
        ob("d", value=999.0, source_id="S4", donor_type="deceased", kind="estimate"),  # other kind
        ob("e", value=5.0, source_id="S5", donor_type="deceased", year=2010, year_end=2018),
        ob("f", value=6.0, source_id="S6", donor_type="deceased", year=2010, year_end=2017),
        ob("g", value=130.0, source_id="S1", series="other", donor_type="deceased"),  # same source as a
        ob("p", value=50.0, source_id="S7", donor_type="deceased", flag="partial_year"),  # year to date
    ])
    d = consistency.source_disagreements(obs)
    # a is the row whose (source_id, obs_id) sorts first: S1 rows a and g come before S2's b
    pairs = sorted(zip(d["obs_id_a"], d["obs_id_b"], strict=True))
    assert pairs == [("a", "b"), ("b", "c"), ("g", "b"), ("g", "c")]
    ab = d[(d["obs_id_a"] == "a") & (d["obs_id_b"] == "b")].iloc[0]
    assert ab["difference"] == 20.0
    assert ab["relative_difference"] == pytest.approx(20 / 120)
    assert ab["source_kind_b"] == "news" and ab["donor_type"] == "deceased" and ab["organ"] == "all"


def test_repeated_values() -> None:
    rows = [ob(f"r{y}", year=y, value=4577.0 if y <= 2014 else 4931.0) for y in range(2010, 2017)]
    rows += [ob("z1", series="zero", year=2015, value=0.0), ob("z2", series="zero", year=2016, value=0.0)]
    rows += [ob("g1", series="gap", year=2010, value=7.0), ob("g2", series="gap", year=2012, value=7.0)]
    rows += [ob("m1", series="multi", year=2011, value=3.0, year_end=2012),
             ob("m2", series="multi", year=2012, value=3.0, year_end=2013)]
    rep = consistency.repeated_observation_values(frame(rows))
    assert len(rep) == 2
    first = rep[rep["value"] == 4577.0].iloc[0]
    assert (first["series"], first["first_year"], first["last_year"], first["n_years"]) == ("s", 2010, 2014, 5)
    assert first["ids"] == "r2010;r2011;r2012;r2013;r2014"
    assert rep[rep["value"] == 4931.0].iloc[0]["n_years"] == 2
    with_zero = consistency.repeated_observation_values(frame(rows), ignore_zero=False)
    assert len(with_zero) == 3
    godt = pd.DataFrame({"country": "China", "year": [2009, 2010, 2011, 2012],
                         "dd_kidney_tx": [3500.0, 4577.0, 4577.0, 4577.0]})
    g = consistency.repeated_godt_values(godt, ["dd_kidney_tx"])
    assert g[["measure", "value", "first_year", "last_year"]].values.tolist() == [
        ["dd_kidney_tx", 4577.0, 2010, 2012]]


def test_sum_mismatches() -> None:
    v = dict(family="volumes", unit="transplants", donor_type="")
    obs = frame([
        # S1 2018: complete organs, do not add up (16,000 vs 20,201)
        ob("t", value=20201.0, **v), ob("k", value=10000.0, organ="kidney", **v),
        ob("l", value=5000.0, organ="liver", **v), ob("h", value=500.0, organ="heart", **v),
        ob("u", value=400.0, organ="lung", **v), ob("o", value=100.0, organ="other", **v),
        # S6 2018: four main organs, no 'other' row, short of the total: reported, not a mismatch
        ob("t6", source_id="S6", value=1000.0, **v), ob("k6", source_id="S6", value=600.0, organ="kidney", **v),
        ob("l6", source_id="S6", value=300.0, organ="liver", **v),
        ob("h6", source_id="S6", value=10.0, organ="heart", **v),
        ob("u6", source_id="S6", value=10.0, organ="lung", **v),
        # S2 2018: complete and consistent, via kidney_liver
        ob("t2", source_id="S2", value=100.0, **v), ob("kl2", source_id="S2", value=90.0, organ="kidney_liver", **v),
        ob("h2", source_id="S2", value=6.0, organ="heart", **v), ob("u2", source_id="S2", value=4.0, organ="lung", **v),
        # S3 2018: incomplete parts exceeding the total
        ob("t3", source_id="S3", value=100.0, **v), ob("k3", source_id="S3", value=101.0, organ="kidney", **v),
        # S4 2018: approximate total, within 5 %
        ob("t4", source_id="S4", value=100.0, qualifier="approx", **v),
        ob("d4", source_id="S4", value=60.0, donor_type="deceased", family="volumes", unit="transplants"),
        ob("l4", source_id="S4", value=43.0, donor_type="living", family="volumes", unit="transplants"),
        # S5: two different totals -> ambiguous
        ob("t5", source_id="S5", series="x", value=10.0, **v), ob("t5b", source_id="S5", series="y", value=11.0, **v),
        ob("k5", source_id="S5", value=3.0, organ="kidney", **v),
    ])
    m = consistency.sum_mismatches(obs).set_index(["check", "source_id"])
    s1 = m.loc[("organ_sum", "S1")]
    assert (s1["total"], s1["parts_sum"], s1["difference"]) == (20201.0, 16000.0, -4201.0)
    assert s1["complete"] and s1["mismatch"] and s1["status"] == "parts differ from total"
    assert s1["parts"] == "heart=500;kidney=10000;liver=5000;lung=400;other=100"
    s6 = m.loc[("organ_sum", "S6")]
    assert not s6["complete"] and not s6["mismatch"] and s6["difference"] == -80.0
    assert s6["status"] == "main organs short of total (no 'other' row)"
    s2 = m.loc[("organ_sum", "S2")]  # kidney_liver + heart + lung = total, no 'other': not flagged
    assert not s2["complete"] and not s2["mismatch"] and s2["parts_sum"] == 100.0
    assert s2["status"] == "ok"
    s3 = m.loc[("organ_sum", "S3")]
    assert not s3["complete"] and s3["mismatch"] and s3["status"] == "parts exceed total"
    s4 = m.loc[("donor_type_sum", "S4")]
    assert s4["approximate"] and s4["complete"] and not s4["mismatch"]
    assert s4["relative_difference"] == pytest.approx(0.03)
    assert m.loc[("organ_sum", "S5"), "status"].startswith("ambiguous")


# --- the official donor series and the full run ------------------------------------------------------


def test_official_donor_series_selection_rule() -> None:
    d = dict(donor_type="deceased")
    obs = frame([
        ob("n15", year=2015, value=3000.0, source_id="N", source_kind="news", **d),
        ob("s15", year=2015, value=2800.0, source_id="S", source_kind="official_statement", **d),
        ob("r15", year=2015, value=2766.0, source_id="R", source_kind="official_registry", **d),
        ob("s16a", year=2016, value=4000.0, source_id="S", source_kind="official_statement",
           qualifier="over", **d),
        ob("s16b", year=2016, value=4080.0, source_id="T", source_kind="official_statement", **d),
        ob("n17", year=2017, value=5146.0, source_id="N", source_kind="news", **d),
        ob("p17", year=2017, value=4207.0, source_id="R", source_kind="official_registry",
           flag="partial_year", **d),
        ob("q17", year=2017, value=5000.0, source_id="R", source_kind="official_registry",
           flag="secondary;projection", **d),
        ob("a18", year=2018, value=6316.0, source_id="E", source_kind="official_statement",
           flag="secondary", **d),
        ob("b18", year=2018, value=6302.0, source_id="F", source_kind="official_statement",
           qualifier="approx", **d),
        ob("x1", year=2017, value=1.0, source_kind="official_registry", donor_type="living"),
        ob("x2", year=2017, value=2.0, source_kind="official_registry", kind="cumulative", **d),
        ob("x3", year=2017, value=3.0, source_kind="official_registry", year_end=2018, **d),
        ob("x4", year=2017, value=4.0, source_kind="official_registry", organ="kidney", **d),
        ob("x5", year=2017, value=5.0, source_kind="official_registry", family="volumes", **d),
    ])
    s = official_donor_series(obs).set_index("year")
    # partial-year and projected rows never count; "secondary" ranks after non-secondary, even
    # when the non-secondary row is only approximate
    assert s["obs_id"].to_dict() == {2015: "r15", 2016: "s16b", 2017: "n17", 2018: "b18"}
    assert s["value"].to_dict() == {2015: 2766.0, 2016: 4080.0, 2017: 5146.0, 2018: 6302.0}
    assert s.loc[2015, "n_candidates"] == 3 and s.loc[2015, "n_values"] == 3
    assert official_donor_series(None).empty


def write_godt_file(path: Path, fmt_index: int, rows: list[dict]) -> Path:
    fmt = FORMATS[fmt_index]
    header = list(fmt.columns)
    lines = [fmt.delimiter.join(header)]
    for row in rows:
        cells = []
        for h in header:
            v = row.get(fmt.columns[h], "NA" if fmt_index == 0 else "0")
            cells.append(str(v).replace(".", ",") if fmt.decimal == "," else str(v))
        lines.append(fmt.delimiter.join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def official_values() -> np.ndarray:
    return 30.0 * X**2 + 20.0 * X + 10.0  # exact quadratic, 2010-2018


def run_inputs(tmp_path: Path) -> tuple[pd.DataFrame, list[Path]]:
    rng = np.random.default_rng(7)
    old = []
    for i in range(6):  # six countries with 9 positive years 2008-2016
        vals = 200 + 25 * np.arange(9) + rng.normal(0, 15 + 10 * i, 9)
        old += [dict(region="Europe", country=f"K{i}", year=2008 + j, population_millions=10,
                     actual_dd=round(float(v), 1)) for j, v in enumerate(vals)]
    old += [dict(region="Western Pacific", country="China", year=y, population_millions=1400,
                 actual_dd=v, dd_kidney_tx=4577, dd_liver_tx=2082)
            for y, v in [(2015, 2766), (2016, 4080)]]
    new = [dict(region="Western Pacific", country="China", year=y, population_millions=1400,
                actual_dd=v, dd_kidney_tx=2 * v, dd_liver_tx=v, total_tx=3 * v)
           for y, v in [(2020, 5222), (2021, 5272)]]
    new += [dict(region="Europe", country="K0", year=y, population_millions=10, actual_dd=300,
                 dd_kidney_tx=600, dd_liver_tx=300) for y in (2020, 2021)]
    paths = [write_godt_file(tmp_path / "old.csv", 0, old), write_godt_file(tmp_path / "new.csv", 1, new)]
    rows = [ob(f"o{y}", year=int(y), value=float(v), source_id="COTRS", source_kind="official_registry",
               donor_type="deceased", series="official_donors") for y, v in zip(YEARS, official_values(), strict=True)]
    rows.append(ob("news2012", year=2012, value=999.0, source_id="NEWS", source_kind="news",
                   donor_type="deceased", series="press"))
    return frame(rows), paths


def test_run_forensics_end_to_end(tmp_path: Path) -> None:
    obs, paths = run_inputs(tmp_path)
    out = tmp_path / "out"
    result = run_forensics(obs, paths, out)
    assert list(result.columns) == COLUMNS
    on_disk = pd.read_csv(out / "forensics.csv", keep_default_na=False, na_values={"value": [""],
                          "benchmark_percentile": [""]})
    assert list(on_disk.columns) == COLUMNS and len(on_disk) == len(result)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files left
    for png in ("forensics_fits.png", "forensics_benchmark.png", "forensics_ratios.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "forensics_manifest.json").read_text())
    assert manifest["target_series"] == {"godt_actual_dd": "2015-2016,2020-2021",
                                         "official_donors": "2010-2018",
                                         "official_then_godt": "2010-2018,2020-2021"}

    r = result.set_index(["check", "series", "statistic"])
    key = ("fit", "official_donors:annual", "quadratic.r2")
    assert r.loc[key, "value"] == pytest.approx(1.0, abs=1e-12)
    assert r.loc[key, "years"] == "2010-2018"
    assert r.loc[("fit", "official_donors:annual", "quadratic.coef_a"), "value"] == pytest.approx(30.0, rel=1e-9)
    om = r.loc[("fit", "official_donors:annual", "quadratic.one_minus_r2")]
    assert om["benchmark_percentile"] == 0.0
    assert om["flag"] == "closer_to_perfect_fit_than_95pct_of_countries"
    # K0..K5 have 9 consecutive positive years (2008-2016); K0's 2020-2021 run is too short
    assert r.loc[("benchmark", "official_donors:annual", "quadratic.n_countries"), "value"] == 6
    assert r.loc[("benchmark", "official_donors:annual", "quadratic.rank"), "value"] == 1
    # the gapped series is compared on the same calendar years: no GODT country has them all
    # (and none has a 12-year run for the same pattern of years either)
    n = r.loc[("benchmark", "official_then_godt:annual", "quadratic.n_countries")]
    assert n["value"] == 0 and n["flag"] == "windows=same_year_pattern_latest_window"
    n = r.loc[("benchmark", "official_donors:annual", "quadratic.n_countries")]
    assert n["flag"] == "windows=latest_consecutive_window"
    assert ("fit", "official_then_godt:cumulative", "quadratic.r2") not in r.index
    # GODT China's longest consecutive run (the latest of two 2-year runs) is too short to fit
    short = r.loc[("fit", "godt_actual_dd_run", "insufficient_points")]
    assert short["value"] == 2 and short["years"] == "2020-2021" and short["flag"] == "not_fitted"
    # prefixes 2010-2014 ... 2010-2018, two models, two forms; the gapped series adds two
    # prefixes ending 2020 and 2021 (annual only)
    through = result[result["check"] == "fit_through"]
    assert through["series"].str.startswith("official_donors:").sum() == 5 * 2 * 2
    assert through["series"].str.startswith("official_then_godt:").sum() == 5 * 2 * 2 + 2 * 2
    last = through[(through["series"] == "official_then_godt:annual")
                   & (through["statistic"] == "quadratic.r2")]["years"].tolist()
    assert last[-2:] == ["2010-2018,2020", "2010-2018,2020-2021"]
    # the press figure for 2012 disagrees with the registry
    dis = r.loc[("source_disagreement", "COTRS vs NEWS", "donors/reported/all/deceased.difference")]
    assert dis["value"] == 999.0 - official_values()[2] and dis["years"] == "2012"
    # GODT China repeats its kidney figure in 2015-2016
    rep = r.loc[("repeated_value", "godt:China:dd_kidney_tx", "value")]
    assert rep["value"] == 4577.0 and rep["years"] == "2015-2016"
    # ratios: China 2020 transplants per donor = (2v + v) / v = 3; K0 = 3 too -> percentile 50
    tpd = result[(result["check"] == "ratio") & (result["statistic"] == "transplants_per_donor")
                 & (result["years"] == "2020")].iloc[0]
    assert tpd["value"] == 3.0 and tpd["benchmark_percentile"] == 50.0


def test_run_forensics_without_inputs(tmp_path: Path) -> None:
    result = run_forensics(None, [], tmp_path, charts=False)
    assert result.empty and list(result.columns) == COLUMNS
    assert pd.read_csv(tmp_path / "forensics.csv").columns.tolist() == COLUMNS
    obs, _ = run_inputs(tmp_path)
    only_obs = run_forensics(obs, [], tmp_path / "o", charts=False)
    assert "benchmark" not in set(only_obs["check"])
    assert only_obs.set_index(["check", "series", "statistic"]).loc[
        ("fit", "official_donors:annual", "quadratic.r2"), "value"] == pytest.approx(1.0, abs=1e-12)
    assert set(target_series(obs, pd.DataFrame())) == {"official_donors"}


def test_run_forensics_reuses_outputs_only_for_the_same_inputs(tmp_path: Path) -> None:
    import os

    obs, _ = run_inputs(tmp_path)
    out = tmp_path / "f"
    csv = out / "forensics.csv"

    def rewritten(**kw) -> bool:
        os.utime(csv, ns=(0, 0))  # mark; a rewrite gives the file a current mtime
        run_forensics(kw.pop("obs", obs), [], out, charts=False, **kw)
        return csv.stat().st_mtime_ns != 0

    first = run_forensics(obs, [], out, charts=False, reuse=True)
    assert not rewritten(reuse=True)  # same inputs: read back
    again = run_forensics(obs, [], out, charts=False, reuse=True)
    pd.testing.assert_frame_equal(again, pd.read_csv(csv))
    assert len(again) == len(first) > 0 and set(again["statistic"]) == set(first["statistic"])
    # other observations, other settings, or reuse=False: computed afresh
    assert rewritten(obs=obs.iloc[:-1], reuse=True)
    assert rewritten(obs=obs.iloc[:-1], reuse=True, min_run=3)
    assert not rewritten(obs=obs.iloc[:-1], reuse=True, min_run=3)
    assert rewritten(obs=obs.iloc[:-1], min_run=3)
    # a missing output file is never papered over
    (out / "forensics_ratios.csv").unlink()
    assert rewritten(obs=obs.iloc[:-1], reuse=True, min_run=3)
    assert (out / "forensics_ratios.csv").exists()


# --- the shared GODT exports (skipped when absent) ---------------------------------------------------

GODT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "godt"
SHARED = [GODT_DIR / "godt_2000_2017.csv", GODT_DIR / "godt_2020_2024_with_hdi.csv"]


@pytest.mark.skipif(not all(p.exists() for p in SHARED),
                    reason=f"GODT reference exports not found in {GODT_DIR}")
def test_shared_godt_china_rank(tmp_path: Path) -> None:
    result = run_forensics(None, SHARED, tmp_path, charts=False)
    r = result.set_index(["check", "series", "statistic"])
    run = "godt_actual_dd_run:annual"
    assert r.loc[("fit", run, "quadratic.r2"), "years"] == "2020-2024"
    # regression values (docs/forensics.md quotes them)
    assert r.loc[("fit", run, "quadratic.one_minus_r2"), "value"] == pytest.approx(0.046605, rel=1e-4)
    assert r.loc[("benchmark", run, "quadratic.n_countries"), "value"] == 74
    assert r.loc[("benchmark", run, "quadratic.rank"), "value"] == 19
    assert r.loc[("benchmark", run, "quadratic.median_one_minus_r2"), "value"] == pytest.approx(0.189842, rel=1e-4)
    ratio_rows = result[(result["check"] == "ratio") & (result["series"] == "godt:China")]
    assert ratio_rows["years"].nunique() == 18  # 2004-2016 and 2020-2024 (kidney:liver from 2004)


def test_command_line_reads_derived_observations(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    obs, paths = run_inputs(tmp_path)
    derived = tmp_path / "derived"
    derived.mkdir()
    obs.to_csv(derived / "observations.csv", index=False)  # as ingest writes it: blanks empty
    args = ["forensics", "--derived", str(derived), "--out", str(tmp_path / "cli"), "--no-charts"]
    result = CliRunner().invoke(app, args + [f"--godt={p}" for p in paths])
    assert result.exit_code == 0, result.stdout
    out = result.stdout
    assert f"observations: {derived / 'observations.csv'}" in out
    line = next(x for x in out.splitlines()
                if x.split()[:3] == ["official_donors:annual", "2010-2018", "quadratic"])
    one_minus_r2, rank, n, pct = map(float, line.split()[3:7])
    assert one_minus_r2 < 1e-12 and (rank, n, pct) == (1, 6, 0)  # exact fit: first of 6 countries
    assert not list((tmp_path / "cli").glob("*.png"))


def test_command_line_missing_godt_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(app, ["forensics", "--godt", str(missing), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert f"{missing}: GODT export not found" in result.stderr
    assert not (tmp_path / "o").exists()
