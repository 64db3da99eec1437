"""Where the sampler starts: the posterior mode, found from a data-driven path.

Jittered random starts occasionally dropped one nutpie chain into a region of extreme curvature
where it stayed (step size ~1e-4, logp thousands below the mode) - measured on the baseline, one
chain in four for some seeds. Starting every chain at the mode (found by L-BFGS from the
interpolated reports, ``build.start_paths``) removed that in every seed tried. The logp/gradient
function is compiled once per model; ``pm.set_data`` swaps the observed arrays, so finding the
start for another dataset of the same structure costs only the optimisation.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
from scipy import optimize


class StartFinder:
    """Mode search for a built model; reusable across data swapped in with ``pm.set_data``.

    The search starts from the model's initial point *for the current data* (prior parameters are
    data too) with the latent paths given by ``build.start_paths`` of the current evidence, so the
    start - and hence the fit - depends only on (data, scenario, seed), never on what this process
    fitted before.
    """

    def __init__(self, model: pm.Model):
        from pymc.initial_point import make_initial_point_fn

        self.model = model
        self._pymc_fn = None
        self.ip_fn = make_initial_point_fn(model=model, return_transformed=True, jitter_rvs=set())
        point = self.ip_fn(0)
        self.names = [v.name for v in model.value_vars]
        self.shapes = [np.shape(point[n]) for n in self.names]

    def _default_fn(self):
        """PyMC's logp/gradient (C backend), compiled on first use; reads the model's pm.Data."""
        if self._pymc_fn is None:
            fn = self.model.logp_dlogp_function(ravel_inputs=True)
            fn.set_extra_values({})
            assert [v.name for v in fn._grad_vars] == self.names
            self._pymc_fn = fn
        return self._pymc_fn

    def _flat(self, point: dict) -> np.ndarray:
        return np.concatenate([np.ravel(point[n]) for n in self.names])

    def _unflat(self, x: np.ndarray) -> dict:
        out, i = {}, 0
        for n, s in zip(self.names, self.shapes):
            size = int(np.prod(s))
            out[n] = x[i:i + size].reshape(s)
            i += size
        return out

    def x0(self, paths: dict | None) -> np.ndarray:
        point = self.ip_fn(0)
        for name, value in (paths or {}).items():
            point[name] = np.asarray(value, float)
        return self._flat(point)

    def find(self, data: dict | None = None, paths: dict | None = None, maxiter: int = 5000,
             logp_dlogp=None) -> dict:
        """The mode (transformed value variables) for ``data`` (pm.Data name -> array), searched
        from ``paths`` (value-variable name -> starting array; build.start_paths).

        ``logp_dlogp``: x (raveled, ``model.value_vars`` order) -> (logp, gradient) for the same
        data, e.g. :class:`PyFuncLogp` of the compiled model (no second compilation); default
        PyMC's function."""
        if data:
            with self.model:
                pm.set_data(data)
        fn = logp_dlogp or self._default_fn()

        def neg(x):
            logp, grad = fn(x)
            if not np.isfinite(logp):
                return 1e300, np.zeros_like(x)
            return -float(logp), -np.asarray(grad, float)

        res = optimize.minimize(neg, self.x0(paths), jac=True, method="L-BFGS-B",
                                options={"maxiter": maxiter})
        return self._unflat(res.x)


class PyFuncLogp:
    """Log density and gradient of a compiled nutpie model (a ``PyFuncModel``: numba through
    ``numba_cached`` or jax), called with the data the compiled model holds."""

    def __init__(self, compiled):
        self._fn = compiled._make_logp_func()
        self._data = compiled._shared_data
        self.n = compiled.n_dim

    def __call__(self, x):
        x = np.ascontiguousarray(x, dtype="float64")
        if x.size != self.n:
            raise RuntimeError(f"the compiled log density has dimension {self.n}, not {x.size}")
        logp, grad = self._fn(x, **self._data)
        if not (np.isfinite(logp) and np.isfinite(grad).all()):
            return -np.inf, grad
        return logp, grad


def density(compiled):
    """x -> (logp, gradient) of a compiled nutpie model, whichever its backend."""
    return PyFuncLogp(compiled)


FLAT_JITTER = 0.1  # sd of the per-chain nudge of coordinates whose gradient vanishes at the mode


def nutpie_with_start(compiled, model: pm.Model, point: dict, flat_coords: np.ndarray | None = None):
    """A compiled nutpie model whose chains all start at ``point`` (transformed values).

    ``flat_coords``: a boolean mask of coordinates whose gradient is exactly 0 at ``point`` (a
    parameter the data do not inform sits at its prior's mode). nutpie initialises its mass matrix
    from the gradient and refuses a start with a zero component ("bad initial gradient"), so each
    chain nudges those coordinates by N(0, FLAT_JITTER) (seeded by the chain's seed); the others stay
    at the mode."""
    import dataclasses

    names = [v.name for v in model.value_vars]
    flat = np.concatenate([np.ravel(point[n]) for n in names]).astype("float64")
    mask = np.zeros(flat.size, bool) if flat_coords is None else np.asarray(flat_coords, bool)

    def initial_point(seed):
        x = flat.copy()
        if mask.any():
            x[mask] += FLAT_JITTER * np.random.default_rng(seed).standard_normal(int(mask.sum()))
        return x

    return dataclasses.replace(compiled, _make_initial_points=initial_point)


def held_data(compiled, data: dict) -> dict:
    """The inputs ``compiled`` holds, ready for ``with_data``, each in the form it was compiled
    for: JAX arrays for the jax backend (numpy ones would be copied to JAX on every one of the
    thousands of density calls); for numba C-contiguous arrays of the held dtype (another dtype
    or layout would make numba compile a second specialisation, silently, for a minute)."""
    held = compiled._shared_data
    jax_held = any(type(v).__module__.startswith("jax") for v in held.values())
    if jax_held:
        import jax.numpy as jnp

        return {k: jnp.asarray(v) for k, v in data.items() if k in held}
    # a writeable C-ordered copy of the held dtype: numba types arrays by dtype, rank, layout and
    # read-only flag (read-only inputs from model_inputs compiled a second specialisation: 49-76 s
    # in the first mode search of a cold process); np.array keeps a 0-d input 0-d
    # (np.ascontiguousarray would make it 1-d: a typing error)
    return {k: np.array(v, dtype=held[k].dtype, order="C") for k, v in data.items() if k in held}


def sample_from_mode(nutpie, compiled, model, finder, data: dict, paths: dict | None = None, **kwargs):
    """nutpie.sample with every chain at the mode; if nutpie rejects that start (it reports
    "All initialization points failed" for some modes, e.g. on tiny datasets), fall back to
    its own jittered start. Returns (idata, start used, {"mode_s", "nuts_s"})."""
    import time

    # inputs the compiled graph no longer holds (e.g. a bound-row softness multiplied by an
    # all-zero indicator and folded away when no row is a bound) do not affect it: skip them
    with_data = compiled.with_data(**held_data(compiled, data))
    from analysis.progress import status

    t0 = time.perf_counter()
    dens = density(with_data)
    with status("mode search (the sampler's start)"):
        mode = finder.find(data, paths, logp_dlogp=dens)
    _, grad = dens(finder._flat(mode))
    t1 = time.perf_counter()
    try:
        idata = nutpie.sample(nutpie_with_start(with_data, model, mode, np.abs(grad) < 1e-8), **kwargs)
        start = "mode"
    except RuntimeError as exc:
        if "initialization points failed" not in str(exc):
            raise
        idata, start = nutpie.sample(with_data, **kwargs), "jittered"
    return idata, start, {"mode_s": round(t1 - t0, 2), "nuts_s": round(time.perf_counter() - t1, 2)}
