"""The PyMC graph: latent yearly quantities, declared supply, gap, and the likelihood rows.

Notation (docs/model.md): Vd deceased-donor transplants, L living-donor transplants,
V = Vd + L, E executions, D voluntary deceased donors, P = E * u * y_e organs from executed
prisoners, S = P * 1[t <= until] + D * y_d + L, gap G = V - S.
"""

from __future__ import annotations

import logging

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.model.evidence import INF, QUANTITIES, Evidence
from analysis.model.inputs import CLASSES, FRACTIONS, design, donor_years, model_inputs
from analysis.model.priors import prior, prior_dist, vector_prior
from analysis.scenarios import Scenario
from analysis.scenarios.spec import ORGANS

logging.getLogger("pymc").setLevel(logging.WARNING)  # pymc sets INFO on import ("Sampling: [...]")

SHARE_SATURATION = 20.0  # sharpness of the soft cap of modelled shares at 1 (a numerical device)


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


def _spread(weights: np.ndarray, q: np.ndarray, n_quantities: int) -> np.ndarray:
    """(rows x quantities*years) matrix M with M @ quantities.ravel() = each row's weighted sum of
    its quantity over its years. A dense product instead of gathering rows of the quantity matrix:
    the gradient of a gather is a scatter-add, which dominated the cost of a gradient evaluation."""
    n, t = weights.shape
    out = np.zeros((n, n_quantities * t))
    for i in range(n):
        out[i, q[i] * t:(q[i] + 1) * t] = weights[i]
    return out


def _one_hot(index: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size)[index]


def _random_walk(name: str, cfg: dict, data: dict, steps: int, dims: str):
    step = prior(f"{name}_step", cfg["step"], data)
    init = prior_dist(f"{name}_init", cfg["init"], data, f"latent.{name}.init")
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


def start_paths(evidence: Evidence, scenario: Scenario) -> dict[str, np.ndarray]:
    """Where the mode search starts for these data: each latent's path from its own reports
    (deceased/living split of the volume 0.85/0.15 - only a starting guess)."""
    years, d_years = evidence.years, donor_years(evidence, scenario)
    paths = {"log_deceased_volume": data_start(evidence, "volume", years, np.log(0.85)),
             "log_living": data_start(evidence, "volume", years, np.log(0.15)),
             "log_executions": data_start(evidence, "executions", years),
             "log_donors": data_start(evidence, "donors_reported", d_years)}
    return {k: v for k, v in paths.items() if v is not None}


def build_model(evidence: Evidence, scenario: Scenario) -> pm.Model:
    """The model; every number comes in as ``pm.Data`` (``inputs.model_inputs``), so a compiled
    model serves any (evidence, scenario) of the same ``inputs.structure``."""
    years = evidence.years
    d_years = donor_years(evidence, scenario)
    cd, sd = design(evidence, "count"), design(evidence, "share")
    coords = {"year": years, "donor_year": d_years, "organ": ORGANS,
              "count_obs": cd["rows"]["obs_id"].tolist(), "share_obs": sd["rows"]["obs_id"].tolist()}
    lat = scenario.get("latent")
    sup = scenario.get("supply")
    obs_dims = {"count_lo": "count_obs", "count_hi": "count_obs", "share_lo": "share_obs",
                "share_hi": "share_obs"}
    with pm.Model(coords=coords) as model:
        data = {k: pm.Data(k, v, dims=obs_dims.get(k)) for k, v in model_inputs(evidence, scenario).items()}
        log_vd = _random_walk("deceased_volume", lat["deceased_volume"], data, len(years) - 1, "year")
        log_l = _random_walk("living", lat["living"], data, len(years) - 1, "year")
        log_e = _random_walk("executions", lat["executions"], data, len(years) - 1, "year")
        log_d = _random_walk("donors", lat["donors"], data, len(d_years) - 1, "donor_year")
        model.tgap_start = start_paths(evidence, scenario)  # for the data it was built with
        u = prior("share_executed_used", sup["share_executed_used"], data)
        y_e = prior("organs_per_executed", sup["organs_per_executed"], data)
        y_d = prior("organs_per_donor", sup["organs_per_donor"], data)
        k = prior("donor_report_inflation", sup["donor_report_inflation"], data)
        mix_all = pm.Dirichlet("organ_mix_all", a=data["organ_mix_all__a"], dims="organ")
        mix_liv = pm.Dirichlet("organ_mix_living", a=data["organ_mix_living__a"], dims="organ")

        vd, liv, ex = pt.exp(log_vd), pt.exp(log_l), pt.exp(log_e)
        donors = pt.concatenate([pt.zeros(len(years) - len(d_years)), pt.exp(log_d)])
        prisoner = ex * u * y_e
        volume = pm.Deterministic("volume", vd + liv, dims="year")
        pm.Deterministic("deceased_volume", vd, dims="year")
        pm.Deterministic("living", liv, dims="year")
        pm.Deterministic("executions", ex, dims="year")
        pm.Deterministic("donors", donors, dims="year")
        p_decl = pm.Deterministic("prisoner_organs_declared", prisoner * data["declared_prisoner_mask"], dims="year")
        d_org = pm.Deterministic("donor_organs", donors * y_d, dims="year")
        supply = pm.Deterministic("supply", p_decl + d_org + liv, dims="year")
        pm.Deterministic("gap", volume - supply, dims="year")
        quantities = pt.stack([volume, vd, liv, ex, donors * k, donors * y_d * k, prisoner])
        flat_q, n_q = quantities.ravel(), len(QUANTITIES)

        if len(cd["q"]):
            fracs = pt.concatenate([pt.ones(1), mix_all, mix_all[:1] + mix_all[1:2],
                                    mix_liv, mix_liv[:1] + mix_liv[1:2]])
            used = cd["used"]
            specs = [scenario.get(f"evidence.{CLASSES[c][0]}.{CLASSES[c][1]}") for c in used]
            bias_v = vector_prior("bias", [s["bias"] for s in specs], data)
            noise_v = vector_prior("noise", [s["noise"] for s in specs], data)
            pos = np.full(len(CLASSES), -1)
            pos[used] = np.arange(len(used))
            cls = _one_hot(pos[cd["cls"]], len(used))
            model.add_coord("evidence_class", [f"{CLASSES[c][0]}.{CLASSES[c][1]}" for c in used])
            pm.Deterministic("bias_by_class", bias_v, dims="evidence_class")
            pm.Deterministic("noise_by_class", noise_v, dims="evidence_class")
            agg = (pt.dot(_spread(cd["weights"], cd["q"], n_q), flat_q)
                   * pt.dot(_one_hot(cd["frac"], len(FRACTIONS)), fracs))
            is_bound = pt.as_tensor(cd["is_bound"].astype(float))
            mu = pt.log(agg) + (1.0 - is_bound) * pt.dot(cls, bias_v)
            sigma_report = pt.sqrt((pt.dot(cls, noise_v) * data["count_scale"]) ** 2 + data["count_extra"] ** 2)
            sigma = is_bound * data["lower_bound_softness"] + (1.0 - is_bound) * sigma_report
            pm.CustomDist("obs_count", mu, sigma, data["count_hi"], logp=censored_normal_logp,
                          random=censored_normal_random, observed=data["count_lo"], dims="count_obs")
        if len(sd["q"]):
            num = pt.dot(_spread(sd["weights"], sd["q"], n_q), flat_q)
            den = pt.dot(_spread(sd["weights"], sd["den"], n_q), flat_q)
            # a share cannot exceed 1: soft-min(num/den, 1), smooth so gradients have no kink:
            # log p = log r - softplus(k log r)/k, written as -softplus(-k log r)/k (the same
            # number) so that log(1 - p) stays finite when r >> 1 instead of rounding p to 1
            log_r = pt.log(num) - pt.log(den)
            log_p = -pt.softplus(-SHARE_SATURATION * log_r) / SHARE_SATURATION
            is_bound = pt.as_tensor(sd["is_bound"].astype(float))
            sigma = is_bound * data["lower_bound_softness"] + (1.0 - is_bound) * pt.sqrt(
                data["share_noise"] ** 2 + data["share_extra"] ** 2)
            pm.CustomDist("obs_share", log_p - pt.log1mexp(log_p), sigma, data["share_hi"],
                          logp=censored_normal_logp, random=censored_normal_random,
                          observed=data["share_lo"], dims="share_obs")
    return model
