"""Model criticism: PSIS-LOO against an analytic answer, the claim tables, and leave-one-origin-out
(a weight of 0 removes exactly the rows of one origin, with the compiled structure kept)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats

from analysis.data.check import validate
from analysis.data.ingest import tidy_observations
from analysis.model import criticism, leave_out
from analysis.model.build import build_model
from analysis.model.evidence import build_evidence
from analysis.model.inputs import design, model_inputs
from analysis.scenarios import load_scenario
from tests.conftest import REPO


@pytest.fixture(scope="module")
def shipped():
    obs = tidy_observations(validate(REPO / "data" / "raw"))
    sc = load_scenario("baseline")
    return obs, sc, build_evidence(obs, sc)


def test_psis_loo_matches_the_analytic_leave_one_out_density():
    # y_i ~ N(mu, 1), flat prior: posterior mu ~ N(ybar, 1/n); the exact leave-one-out predictive
    # of y_i is N(ybar_{-i}, 1 + 1/(n - 1))
    rng = np.random.default_rng(3)
    n, s = 12, 20000
    y = rng.normal(0.0, 1.0, n)
    y[0] = 3.5  # one outlying figure: worst-fitting and most influential
    mu = rng.normal(y.mean(), np.sqrt(1 / n), s)
    ll = stats.norm.logpdf(y[:, None], mu[None, :], 1.0)
    y_rep = rng.normal(mu[None, :], 1.0, (n, s))
    elpd, k, pit = criticism.psis_loo(ll, y_rep, y)
    loo_mean = (y.sum() - y) / (n - 1)
    exact = stats.norm.logpdf(y, loo_mean, np.sqrt(1 + 1 / (n - 1)))
    assert elpd == pytest.approx(exact, abs=0.02)
    exact_pit = stats.norm.cdf(y, loo_mean, np.sqrt(1 + 1 / (n - 1)))
    assert pit == pytest.approx(exact_pit, abs=0.02)
    assert np.argmin(elpd) == 0 and np.argmax(k) == 0
    assert (k < 0.7).all()
    # the in-sample density is higher than the leave-one-out one for the outlier (it pulled mu)
    assert np.log(np.exp(ll[0]).mean()) > elpd[0] + 0.1


def _fake_idata(n_rows: int, rng, ll_const: float | None = None):
    import arviz as az

    ll = (np.full((2, 50, n_rows), ll_const) if ll_const is not None
          else rng.normal(-1, 0.3, (2, 50, n_rows)))
    return az.from_dict(log_likelihood={"obs_count": ll},
                        posterior_predictive={"obs_count": rng.normal(8, 1, (2, 50, n_rows))},
                        posterior={"x": rng.normal(size=(2, 50))})


def test_loo_table_leaves_bounds_out_and_ranks_points_only(shipped):
    _, _, ev = shipped
    rows = design(ev, "count")["rows"]
    idata = _fake_idata(len(rows), np.random.default_rng(0), ll_const=-2.0)
    t = criticism.loo_table(idata, ev)
    cd = design(ev, "count")
    closed = (rows["mode"] != "bound") & (cd["lo"] > -1e3) & (cd["hi"] < 1e3)
    assert len(t) == int(closed.sum()) and 0 < len(t) < int((rows["mode"] != "bound").sum())
    assert set(t["mode"]) <= {"point", "interval"}
    assert t["elpd_loo"].to_numpy() == pytest.approx(-2.0)  # constant likelihood: LOO = itself
    assert t.loc[t["mode"] == "interval", "loo_pit"].isna().all()
    assert t.loc[t["mode"] == "point", "loo_pit"].between(0, 1).all()
    assert list(t.columns) == criticism.COLUMNS
    s = criticism.summary(t)
    assert s["rows_in_loo"] == len(t) and s["pit_rows"] == int((t["mode"] == "point").sum())
    hist = criticism.pit_histogram(t)
    assert hist["rows"].sum() == s["pit_rows"] and len(hist) == 10


def test_influential_and_worst_tables_sort_as_documented():
    t = pd.DataFrame({c: ["x"] * 12 for c in criticism.COLUMNS})
    t["elpd_loo"] = np.arange(12, dtype=float) - 20
    t["pareto_k"] = np.linspace(0.0, 1.1, 12)[::-1]
    t["loo_pit"] = 0.5
    assert criticism.worst_fitting(t)["elpd_loo"].tolist() == sorted(t["elpd_loo"])[:10]
    top = criticism.influential(t)
    assert len(top) == 10 and top["pareto_k"].is_monotonic_decreasing and top["pareto_k"].iloc[0] == 1.1


def test_leave_out_names_are_checked(shipped):
    _, _, ev = shipped
    with pytest.raises(ValueError, match="no rows in the likelihood; allowed: .*dui_hua"):
        leave_out.left_out_mask(ev, "no_such_origin")
    with pytest.raises(ValueError, match="allowed: group:"):
        leave_out.left_out_mask(ev, "group:nonsense")
    groups = leave_out.default_groups(ev)
    rows = design(ev, "count")["rows"]
    assert groups[0] == rows["origin"].value_counts().index[0]
    assert "group:independent" in groups and "group:official" in groups
    m = leave_out.left_out_mask(ev, "dui_hua")
    assert m.sum() == int((rows["origin"] == "dui_hua").sum()) > 0


def test_weight_zero_is_the_model_without_those_rows(shipped):
    """The compiled model with count_weight 0 on one origin's rows has the log density of a model
    built without those rows (checked at a point away from the start)."""
    obs, sc, ev = shipped
    rows = design(ev, "count")["rows"]
    mask = leave_out.left_out_mask(ev, "dui_hua")
    assert set(rows.loc[~mask, "target"] + rows.loc[~mask, "group"]) == set(rows["target"] + rows["group"])
    reduced = build_evidence(obs, sc, only=rows.loc[~mask, "obs_id"].tolist())
    full_model, small_model = build_model(ev, sc), build_model(reduced, sc)
    point = {k: v + 0.05 for k, v in small_model.initial_point().items()}
    expected = small_model.compile_logp()(point)
    inputs = model_inputs(ev, sc)
    inputs["count_weight"] = np.where(mask, 0.0, 1.0)
    with full_model:
        pm.set_data(inputs)
    got = full_model.compile_logp()(point)
    assert np.isfinite(expected) and got == pytest.approx(expected, rel=1e-10)
    with full_model:
        pm.set_data({"count_weight": np.ones(len(rows))})
    assert abs(full_model.compile_logp()(point) - expected) > 1.0  # the rows did count before


def test_leave_origins_out_refits_with_the_rows_weighted_out(shipped, monkeypatch):
    """Plumbing (sampling mocked): one refit per group, each with exactly that group's rows at 0."""
    import arviz as az
    import xarray as xr

    from analysis.model import fit

    _, sc, ev = shipped
    seen = []

    def fake(evidence, scenario, settings, edit=None):
        w = edit(model_inputs(evidence, scenario))["count_weight"] if edit else None
        seen.append(w)
        level = 0.0 if w is None else float((w == 0).sum())
        gap = np.full((1, 20, len(evidence.years)), level)
        post = xr.Dataset({"gap": (("chain", "draw", "year"), gap)},
                          coords={"year": evidence.years, "chain": [0], "draw": np.arange(20)})
        return az.InferenceData(posterior=post, sample_stats=xr.Dataset(
            {"diverging": (("chain", "draw"), np.zeros((1, 20), bool))}))

    monkeypatch.setattr(fit, "sample_with_inputs", fake)
    settings = fit.SamplerSettings.from_scenario(sc, quick=True)
    t = leave_out.leave_origins_out(ev, sc, settings, ["dui_hua", "group:official"])
    assert seen[0] is None and len(seen) == 3
    for w, g in zip(seen[1:], ["dui_hua", "group:official"]):
        assert (w == 0).tolist() == leave_out.left_out_mask(ev, g).tolist()
    n_periods = len(sc.get("years.periods"))
    assert len(t) == 3 * n_periods and list(t.columns) == leave_out.COLUMNS
    dh = t[t["left_out"] == "dui_hua"]
    n_years = dh["period"].map(lambda p: int(p.split("-")[1]) - int(p.split("-")[0]) + 1)
    assert (dh["unexplained_median"] == dh["rows_left_out"] * n_years).all()
    assert (dh["shift_unexplained_median"] == dh["unexplained_median"]).all()  # base level 0
    with pytest.raises(ValueError):
        leave_out.leave_origins_out(ev, sc, settings, ["nobody"])
