"""The PyMC graph: latent yearly quantities, declared supply, gap, and the likelihood rows.

Notation (docs/model.md): Vd deceased-donor transplants, L living-donor transplants,
V = Vd + L, E executions, D voluntary deceased donors. Organs per executed person
c_t = c_max * softmin(u * y_e * exp(w_t) / c_max, 1) (w a random walk from 0, c_max the ceiling);
prisoner capacity K_t = E_t * c_t; prisoner organs used P_t = Vd_t * softmin(K_t / Vd_t, 1) <= Vd_t;
organs per donor y_d,t = y_d * exp(v_t). Declared supply S = K * 1[t <= until] + D * y_d,t + L,
gap G = V - S (signed: negative where the declared sources could have supplied more).
"""

from __future__ import annotations

import logging

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.model.evidence import QUANTITIES, Evidence
from analysis.model.inputs import (
    CLASSES,
    FRACTIONS,
    design,
    donor_years,
    drift_targets,
    model_inputs,
    override_specs,
)
from analysis.model.priors import prior, prior_dist, vector_prior
from analysis.scenarios import Scenario
from analysis.scenarios.spec import ORGANS

logging.getLogger("pymc").setLevel(logging.WARNING)  # pymc sets INFO on import ("Sampling: [...]")

SHARE_SATURATION = 20.0  # sharpness of the soft cap of modelled shares at 1 (a numerical device)


def _log_std_normal_cdf(z):
    """log Phi(z): PyMC's normal log-CDF (log(erfcx(-z/sqrt 2)/2) - z^2/2 below z = -1, else
    log1p(-erfc(z/sqrt 2)/2)), with each branch fed a safe input where it is not used, so that
    its gradient there is a finite number times 0 (the "double where"). Without that, JAX's
    gradient is NaN: the unused upper branch at very negative z is log1p(-1) = -inf (0 * inf).
    The same values as ``pm.logcdf(pm.Normal.dist(0, 1), z)`` in every backend."""
    lower = pt.lt(z, -1.0)
    z_lo, z_hi = pt.minimum(z, -1.0), pt.maximum(z, -1.0)
    log_lower = pt.log(pt.erfcx(-z_lo / np.sqrt(2.0)) / 2.0) - pt.sqr(z_lo) / 2.0
    log_upper = pt.log1p(-pt.erfc(z_hi / np.sqrt(2.0)) / 2.0)
    return pt.switch(lower, log_lower, log_upper)


def interval_normal_logp(lo, hi, mu, sigma):
    """log P(lo < Y < hi) with Y ~ N(mu, sigma), lo < hi; an open end is -INF / +INF.

    With a = (lo - mu)/sigma, b = (hi - mu)/sigma (an open end gives a huge but finite z), an
    interval above the mean is mirrored, (a, b) -> (-b, -a), so that a <= 0; then
    log P = log Phi(b) + log1mexp(log Phi(a) - log Phi(b)) stays accurate in both tails with two
    normal log-CDFs per row. Inputs stay finite and ordered in every branch (pt.switch evaluates
    both and its gradient multiplies the unused one by 0), so gradients are finite everywhere and a
    far-violated bound gives a large, correctly sloped penalty rather than a flat floor.
    """
    za, zb = (lo - mu) / sigma, (hi - mu) / sigma
    mirror = za > 0
    a, b = pt.switch(mirror, -zb, za), pt.switch(mirror, -za, zb)
    log_a, log_b = _log_std_normal_cdf(a), _log_std_normal_cdf(b)
    return log_b + pt.log1mexp(pt.minimum(log_a - log_b, -1e-300))


def censored_normal_logp(value, mu, sigma, hi):
    """Per row: the normal log-density where value == hi, else log P(value < Y < hi)."""
    is_point = pt.eq(value, hi)
    point_lp = pm.logp(pm.Normal.dist(mu=mu, sigma=sigma), pt.switch(is_point, value, mu))
    interval_lp = interval_normal_logp(pt.switch(is_point, mu - sigma, value), pt.switch(is_point, mu, hi),
                                       mu, sigma)
    return pt.switch(is_point, point_lp, interval_lp)


def rows_logp(is_point: np.ndarray):
    """``censored_normal_logp`` for rows whose kind is known when the model is built (it is part
    of the model's structure): points get the normal density, only the censored rows pay for the
    log-CDFs. Returns a CustomDist logp (value, mu, sigma, hi) -> log-density per row."""
    point_idx, interval_idx = np.flatnonzero(is_point), np.flatnonzero(~is_point)

    def logp(value, mu, sigma, hi):
        out = pt.zeros_like(mu)
        if len(point_idx):
            out = pt.set_subtensor(out[point_idx], pm.logp(
                pm.Normal.dist(mu=mu[point_idx], sigma=sigma[point_idx]), value[point_idx]))
        if len(interval_idx):
            out = pt.set_subtensor(out[interval_idx], interval_normal_logp(
                value[interval_idx], hi[interval_idx], mu[interval_idx], sigma[interval_idx]))
        return out

    return logp


def weighted_rows_logp(is_point: np.ndarray):
    """``rows_logp`` times a per-row weight (``count_weight``: 1 enters, 0 left out)."""
    inner = rows_logp(is_point)

    def logp(value, mu, sigma, hi, weight):
        return weight * inner(value, mu, sigma, hi)

    return logp


def weighted_normal_random(mu, sigma, hi, weight, rng=None, size=None):
    return rng.normal(mu, sigma, size=size)


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


def soft_min_one(log_r):
    """log of a smooth min(r, 1) given log r: -softplus(-k log r)/k, never above min(log r, 0)."""
    return -pt.softplus(-SHARE_SATURATION * log_r) / SHARE_SATURATION


def _drift(name: str, spec: dict, data: dict, n: int, dims: str):
    """A multiplicative drift exp(w_t) with w_0 = 0 and w_t - w_{t-1} ~ N(0, step), non-centred
    (the drifts are weakly identified, where a centred walk would make a funnel); a Fixed step of
    0 gives a constant."""
    step = prior(f"{name}_step", spec, data)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=n - 1)
    return pt.exp(pt.concatenate([pt.zeros(1), pt.cumsum(step * z)]))


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


def _fixed(x, source: str, data: dict):
    """``x`` where the scenario gives the size of declared source ``source`` directly
    (``fixed_supply``; reviewer.fixed_supply), that size in the years it covers."""
    if f"fixed_supply_{source}" not in data:
        return x
    mask = data[f"fixed_supply_{source}_mask"]
    return mask * data[f"fixed_supply_{source}"] + (1.0 - mask) * x


def _own(by_class, part: str, cd: dict, scenario: Scenario, data: dict, model: pm.Model):
    """Each count row's bias or noise: its class's (``by_class``, with the class's drift), except
    the rows of a series or origin that the scenario gives its own (evidence.series_overrides,
    origin_overrides; reviewer.error_overrides): one variable per override with the override's
    prior (a Fixed one a data value), ``bias_override_*`` / ``noise_override_*``. Exact: an
    overridden row gets 0 * class + 1 * own, the others 1 * class + 0."""
    if f"{part}_override" not in cd:
        return by_class
    model.add_coord(f"{part}_override", cd[f"{part}_override_labels"])
    own = vector_prior(f"{part}_override", override_specs(scenario, cd, part), data)
    pm.Deterministic(f"{part}_by_override", own, dims=f"{part}_override")
    onehot = cd[f"{part}_override"]
    return (1.0 - onehot.sum(axis=1)) * by_class + pt.dot(onehot, own)


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
    # check_bounds=False: every parameter is valid by construction (scenario values are validated,
    # sampled ones live on transformed spaces), so the graph needs no parameter checks
    with pm.Model(coords=coords, check_bounds=False) as model:
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
        n_pre = len(years) - len(d_years)
        donors = pt.concatenate([pt.zeros(n_pre), pt.exp(log_d)])
        # organs per executed person (all executed), drifting in time, never above the ceiling
        c_max = data["max_organs_per_executed"]
        raw = u * y_e * _drift("prisoner_yield", sup["prisoner_yield_step"], data, len(years), "year")
        c_t = pm.Deterministic("organs_per_executed_t", c_max * pt.exp(soft_min_one(pt.log(raw / c_max))),
                               dims="year")
        capacity = pm.Deterministic("prisoner_capacity", ex * c_t, dims="year")
        # organs actually taken from executed prisoners cannot exceed the deceased-donor volume
        prisoner = pm.Deterministic("prisoner_organs", vd * pt.exp(soft_min_one(pt.log(capacity / vd))),
                                    dims="year")
        y_d_t = y_d * _drift("donor_yield", sup["organs_per_donor_step"], data, len(d_years), "donor_year")
        y_d_all = pm.Deterministic("organs_per_donor_t", pt.concatenate([pt.zeros(n_pre), y_d_t]), dims="year")
        volume = pm.Deterministic("volume", vd + liv, dims="year")
        pm.Deterministic("deceased_volume", vd, dims="year")
        pm.Deterministic("living", liv, dims="year")
        pm.Deterministic("executions", ex, dims="year")
        pm.Deterministic("donors", donors, dims="year")
        p_decl = pm.Deterministic("prisoner_organs_declared",
                                  _fixed(capacity * data["declared_prisoner_mask"], "prisoners", data), dims="year")
        d_org_model = donors * y_d_all
        d_org = pm.Deterministic("donor_organs", _fixed(d_org_model, "donors", data), dims="year")
        supply = pm.Deterministic("supply", _fixed(p_decl + d_org + _fixed(liv, "living", data), "all", data),
                                  dims="year")
        pm.Deterministic("gap", volume - supply, dims="year")
        quantities = pt.stack([volume, vd, liv, ex, donors * k, d_org_model * k, prisoner])
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
            row_bias = pt.dot(cls, bias_v)
            drifting = [i for i, c in enumerate(used) if CLASSES[c][0] in drift_targets(scenario)]
            if drifting:  # the bias of these classes drifts from its first-year value (a random walk)
                step = prior("bias_step", scenario.get("evidence.rules.bias_step"), data)
                z = pm.Normal("bias_drift_z", 0.0, 1.0, shape=(len(drifting), len(years) - 1))
                walk = pt.concatenate([pt.zeros((len(drifting), 1)), pt.cumsum(step * z, axis=1)], axis=1)
                full = pt.zeros((len(used), len(years)))
                full = pt.set_subtensor(full[drifting], walk)
                w = cd["weights"] / cd["weights"].sum(axis=1, keepdims=True)  # each row's years, mean
                row_bias = row_bias + pt.sum(pt.dot(cls, full) * w, axis=1)
                model.add_coord("drifting_class", [f"{CLASSES[used[i]][0]}.{CLASSES[used[i]][1]}" for i in drifting])
                pm.Deterministic("bias_drift", full[drifting], dims=("drifting_class", "year"))
            row_bias = _own(row_bias, "bias", cd, scenario, data, model)
            mu = pt.log(agg) + pt.as_tensor(cd["biased"].astype(float)) * row_bias
            row_noise = _own(pt.dot(cls, noise_v), "noise", cd, scenario, data, model)
            sigma_report = pt.sqrt((row_noise * data["count_scale"]) ** 2 + data["count_extra"] ** 2)
            sigma = is_bound * data["lower_bound_softness"] + (1.0 - is_bound) * sigma_report
            pm.CustomDist("obs_count", mu, sigma, data["count_hi"], data["count_weight"],
                          logp=weighted_rows_logp(cd["is_point"]), random=weighted_normal_random,
                          observed=data["count_lo"], dims="count_obs")
        if len(sd["q"]):
            num = pt.dot(_spread(sd["weights"], sd["q"], n_q), flat_q)
            den = pt.dot(_spread(sd["weights"], sd["den"], n_q), flat_q)
            # a share cannot exceed 1: soft-min(num/den, 1), smooth so gradients have no kink:
            # log p = log r - softplus(k log r)/k, written as -softplus(-k log r)/k (the same
            # number) so that log(1 - p) stays finite when r >> 1 instead of rounding p to 1
            log_r = pt.log(num) - pt.log(den)
            log_p = soft_min_one(log_r)
            # row kinds decided by the values (not fixed in the graph): a simulated share that
            # rounds to 0 or 1 becomes censored (evidence.SHARE_EPS) in a model compiled for points
            is_bound = pt.as_tensor(sd["is_bound"].astype(float))
            sigma = is_bound * data["lower_bound_softness"] + (1.0 - is_bound) * pt.sqrt(
                data["share_noise"] ** 2 + data["share_extra"] ** 2)
            share_bias = prior("share_bias", scenario.get("evidence.shares.bias"), data)
            pm.CustomDist("obs_share", log_p - pt.log1mexp(log_p) + share_bias, sigma, data["share_hi"],
                          logp=censored_normal_logp, random=censored_normal_random,
                          observed=data["share_lo"], dims="share_obs")
    return model
