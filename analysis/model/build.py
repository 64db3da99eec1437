"""The PyMC graph: latent yearly quantities, declared supply, gap, and the likelihood rows.

Notation (docs/model.md): Vd deceased-donor transplants, L living-donor transplants,
V = Vd + L, E executions, D voluntary deceased donors, P = E * u * y_e organs from executed
prisoners, S = P * 1[t <= until] + D * y_d + L, gap G = V - S.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.model.evidence import INF, QUANTITIES, Evidence
from analysis.model.priors import prior, prior_dist, vector_prior
from analysis.scenarios import Scenario
from analysis.scenarios.spec import GROUPS, ORGANS, TARGETS

SHARE_SATURATION = 20.0  # sharpness of the soft cap of modelled shares at 1 (a numerical device)
CLASSES = [(t, g) for t in TARGETS for g in GROUPS]
FRACTIONS = (["all"] + [f"all:{o}" for o in ORGANS] + ["all:kidney_liver"]
             + [f"living:{o}" for o in ORGANS] + ["living:kidney_liver"])


def _log_std_normal_cdf(z):
    return pm.logcdf(pm.Normal.dist(mu=0.0, sigma=1.0), z)


def censored_normal_logp(value, mu, sigma, hi):
    """Normal log-density where value == hi, else log P(value < Y < hi) with Y ~ N(mu, sigma).

    One-sided intervals (value = -INF or hi = +INF) use a single tail; two-sided ones are computed
    in whichever tail keeps them accurate. Every branch sees only finite, well-ordered inputs
    (pt.switch evaluates all branches), so gradients are finite everywhere and a far-violated
    bound gives a large, correctly sloped penalty rather than a flat floor.
    """
    lo = value
    is_point = pt.eq(lo, hi)
    has_lo, has_hi = lo > -INF / 2, hi < INF / 2
    only_lo, only_hi = has_lo & ~has_hi, ~has_lo & has_hi
    two = has_lo & has_hi & ~is_point
    point_lp = pm.logp(pm.Normal.dist(mu=mu, sigma=sigma), pt.switch(is_point, lo, mu))
    za = (pt.switch(has_lo, lo, mu) - mu) / sigma
    zb = (pt.switch(has_hi, hi, mu) - mu) / sigma
    only_lo_lp = _log_std_normal_cdf(-pt.switch(only_lo, za, 0.0))  # log P(Y > lo)
    only_hi_lp = _log_std_normal_cdf(pt.switch(only_hi, zb, 0.0))  # log P(Y < hi)
    a, b = pt.switch(two, za, 0.0), pt.switch(two, zb, 1.0)
    upper = a > 0
    ua, ub = pt.switch(upper, a, 1.0), pt.switch(upper, b, 2.0)
    lq_a, lq_b = _log_std_normal_cdf(-ua), _log_std_normal_cdf(-ub)
    upper_lp = lq_a + pt.log1mexp(pt.minimum(lq_b - lq_a, -1e-300))
    la, lb = pt.switch(upper, -2.0, a), pt.switch(upper, -1.0, b)
    lp_a, lp_b = _log_std_normal_cdf(la), _log_std_normal_cdf(lb)
    lower_lp = lp_b + pt.log1mexp(pt.minimum(lp_a - lp_b, -1e-300))
    two_lp = pt.switch(upper, upper_lp, lower_lp)
    return pt.switch(is_point, point_lp,
                     pt.switch(only_lo, only_lo_lp, pt.switch(only_hi, only_hi_lp, two_lp)))


def censored_normal_random(mu, sigma, hi, rng=None, size=None):
    """A replicated report Y ~ Normal(mu, sigma) (on the row's transformed scale)."""
    return rng.normal(mu, sigma, size=size)


def design(evidence: Evidence, likelihood: str) -> dict:
    """Index arrays for the rows of one likelihood ("count" or "share")."""
    rows = evidence.rows
    rows = rows[rows["likelihood"] == likelihood] if not rows.empty else rows
    years = evidence.years
    n, t = len(rows), len(years)
    weights = np.zeros((n, t))
    for i, r in enumerate(rows.itertuples()):
        span = (years >= r.year) & (years <= r.year_end)
        weights[i, span] = 1.0 if r.cumulative else 1.0 / span.sum()
    q = rows["quantity"].map(QUANTITIES.index).to_numpy(int) if n else np.zeros(0, int)
    out = dict(rows=rows.reset_index(drop=True), weights=weights, q=q,
               lo=rows["lo"].to_numpy(float) if n else np.zeros(0),
               hi=rows["hi"].to_numpy(float) if n else np.zeros(0))
    if likelihood == "count" and n:
        frac = [("all" if o == "all" else f"{p}:{o}") for o, p in zip(rows["organ"], rows["part_pool"])]
        out["frac"] = np.array([FRACTIONS.index(f) for f in frac], int)
        out["cls"] = np.array([CLASSES.index((t_, g)) for t_, g in zip(rows["target"], rows["group"])], int)
        out["is_bound"] = (rows["mode"] == "bound").to_numpy()
        out["extra"] = rows["extra_sd"].to_numpy(float)
        out["scale"] = rows["noise_scale"].to_numpy(float)
    if likelihood == "share" and n:
        out["den"] = rows["denominator"].map(QUANTITIES.index).to_numpy(int)
        out["extra"] = rows["extra_sd"].to_numpy(float)
        out["is_bound"] = (rows["mode"] == "bound").to_numpy()
    return out


def _random_walk(name: str, cfg: dict, steps: int, dims: str, start: dict, start_path=None):
    step = prior(f"{name}_step", cfg["step"])
    init = prior_dist(cfg["init"], f"latent.{name}.init")
    if start_path is not None:
        start[f"log_{name}"] = start_path
    return pm.GaussianRandomWalk(f"log_{name}", sigma=step, init_dist=init, steps=steps, dims=dims)


def data_start(evidence: Evidence, quantity: str, years: np.ndarray, shift: float = 0.0):
    """A starting path for a latent (log scale) from its own single-year point reports.

    Only where the sampler starts (before jitter): the median report per year, interpolated,
    flat beyond the ends. None when the quantity has no such reports (the prior's point is used).
    """
    rows = evidence.rows
    if rows.empty:
        return None
    pts = rows[(rows["quantity"] == quantity) & (rows["mode"] == "point") & (rows["organ"] == "all")
               & (rows["year"] == rows["year_end"]) & (rows["likelihood"] == "count")]
    if pts.empty:
        return None
    per_year = pts.groupby("year")["lo"].median()
    return np.interp(years, per_year.index.to_numpy(float), per_year.to_numpy(float)) + shift


def build_model(evidence: Evidence, scenario: Scenario) -> pm.Model:
    years = evidence.years
    start_d = int(scenario.get("declared.donation_start"))
    until = int(scenario.get("declared.prisoner_source_until"))
    d_years = years[years >= start_d]
    coords = {"year": years, "donor_year": d_years, "organ": ORGANS,
              "count_obs": [], "share_obs": []}
    cd, sd = design(evidence, "count"), design(evidence, "share")
    coords["count_obs"] = cd["rows"]["obs_id"].tolist()
    coords["share_obs"] = sd["rows"]["obs_id"].tolist()
    lat = scenario.get("latent")
    sup = scenario.get("supply")
    rules = scenario.get("evidence.rules")
    with pm.Model(coords=coords) as model:
        start: dict[str, np.ndarray] = {}  # where samplers start (model.tgap_start)
        log_vd = _random_walk("deceased_volume", lat["deceased_volume"], len(years) - 1, "year", start,
                              data_start(evidence, "volume", years, np.log(0.85)))
        log_l = _random_walk("living", lat["living"], len(years) - 1, "year", start,
                             data_start(evidence, "volume", years, np.log(0.15)))
        log_e = _random_walk("executions", lat["executions"], len(years) - 1, "year", start,
                             data_start(evidence, "executions", years))
        log_d = _random_walk("donors", lat["donors"], len(d_years) - 1, "donor_year", start,
                             data_start(evidence, "donors_reported", d_years))
        model.tgap_start = start
        u = prior("share_executed_used", sup["share_executed_used"])
        y_e = prior("organs_per_executed", sup["organs_per_executed"])
        y_d = prior("organs_per_donor", sup["organs_per_donor"])
        k = prior("donor_report_inflation", sup["donor_report_inflation"])
        mix_all = pm.Dirichlet("organ_mix_all", a=np.array([scenario.get(f"organ_mix.all.{o}") for o in ORGANS]), dims="organ")
        mix_liv = pm.Dirichlet("organ_mix_living", a=np.array([scenario.get(f"organ_mix.living.{o}") for o in ORGANS]), dims="organ")

        vd, liv, ex = pt.exp(log_vd), pt.exp(log_l), pt.exp(log_e)
        donors = pt.concatenate([pt.zeros(len(years) - len(d_years)), pt.exp(log_d)])
        prisoner = ex * u * y_e
        declared_mask = pt.as_tensor((years <= until).astype(float))
        volume = pm.Deterministic("volume", vd + liv, dims="year")
        pm.Deterministic("deceased_volume", vd, dims="year")
        pm.Deterministic("living", liv, dims="year")
        pm.Deterministic("executions", ex, dims="year")
        pm.Deterministic("donors", donors, dims="year")
        p_decl = pm.Deterministic("prisoner_organs_declared", prisoner * declared_mask, dims="year")
        d_org = pm.Deterministic("donor_organs", donors * y_d, dims="year")
        supply = pm.Deterministic("supply", p_decl + d_org + liv, dims="year")
        pm.Deterministic("gap", volume - supply, dims="year")
        quantities = pt.stack([volume, vd, liv, ex, donors * k, donors * y_d * k, prisoner])

        if len(cd["q"]):
            fracs = pt.concatenate([pt.ones(1), mix_all, mix_all[:1] + mix_all[1:2],
                                    mix_liv, mix_liv[:1] + mix_liv[1:2]])
            used = sorted(set(cd["cls"].tolist()))  # classes with at least one row
            specs = [scenario.get(f"evidence.{CLASSES[c][0]}.{CLASSES[c][1]}") for c in used]
            bias_v = vector_prior("bias", [s["bias"] for s in specs])
            noise_v = vector_prior("noise", [s["noise"] for s in specs])
            pos = np.full(len(CLASSES), -1)
            pos[used] = np.arange(len(used))
            cls = pos[cd["cls"]]
            model.add_coord("evidence_class", [f"{CLASSES[c][0]}.{CLASSES[c][1]}" for c in used])
            pm.Deterministic("bias_by_class", bias_v, dims="evidence_class")
            pm.Deterministic("noise_by_class", noise_v, dims="evidence_class")
            agg = (pt.as_tensor(cd["weights"]) * quantities[cd["q"]]).sum(axis=1) * fracs[cd["frac"]]
            is_bound = pt.as_tensor(cd["is_bound"].astype(float))
            mu = pt.log(agg) + (1.0 - is_bound) * bias_v[cls]
            sigma_report = pt.sqrt((noise_v[cls] * cd["scale"]) ** 2 + cd["extra"] ** 2)
            sigma = is_bound * rules["lower_bound_softness"] + (1.0 - is_bound) * sigma_report
            lo = pm.Data("count_lo", cd["lo"], dims="count_obs")
            hi = pm.Data("count_hi", cd["hi"], dims="count_obs")
            pm.CustomDist("obs_count", mu, sigma, hi, logp=censored_normal_logp,
                          random=censored_normal_random, observed=lo, dims="count_obs")
        if len(sd["q"]):
            w = pt.as_tensor(sd["weights"])
            num = (w * quantities[sd["q"]]).sum(axis=1)
            den = (w * quantities[sd["den"]]).sum(axis=1)
            # a share cannot exceed 1: soft-min(num/den, 1), smooth so gradients have no kink
            log_r = pt.log(num) - pt.log(den)
            log_p = log_r - pt.softplus(SHARE_SATURATION * log_r) / SHARE_SATURATION
            is_bound = pt.as_tensor(sd["is_bound"].astype(float))
            sigma = is_bound * rules["lower_bound_softness"] + (1.0 - is_bound) * np.sqrt(
                scenario.get("evidence.shares.noise") ** 2 + sd["extra"] ** 2)
            lo = pm.Data("share_lo", sd["lo"], dims="share_obs")
            hi = pm.Data("share_hi", sd["hi"], dims="share_obs")
            pm.CustomDist("obs_share", log_p - pt.log1mexp(log_p), sigma, hi,
                          logp=censored_normal_logp, random=censored_normal_random,
                          observed=lo, dims="share_obs")
    return model


