"""The JAX route: PyTensor's Erfcx registered for JAX, a log-CDF that is NaN-safe under JAX,
and the baseline's JAX log density and gradient equal to PyMC's C backend."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

import pytensor  # noqa: E402
import pytensor.tensor as pt  # noqa: E402

from analysis.model.build import _log_std_normal_cdf, interval_normal_logp  # noqa: E402
from analysis.model.jax_ops import erfcx  # noqa: E402

# both tails, the switch points (-1, 12) and the model's open-end sentinels (+-1e3 -> z ~ 1e5)
Z = np.concatenate([np.linspace(-40, 40, 4001), [-1.0, -1.0 - 1e-12, -1e3, 1e3, -1e5, 1e5]])
X = np.concatenate([np.linspace(-26, 40, 6601), np.geomspace(1, 1e5, 500),
                    [12.0, np.nextafter(12.0, 13.0), np.nextafter(12.0, 0.0)]])


def _phi_over_Phi(z):
    """d/dz log Phi(z) = phi(z)/Phi(z) = sqrt(2/pi) / erfcx(-z/sqrt 2), accurate in both tails."""
    return np.sqrt(2.0 / np.pi) / sp.erfcx(-z / np.sqrt(2.0))


def test_erfcx_matches_scipy_in_both_tails():
    got = np.asarray(erfcx(X))
    np.testing.assert_allclose(got, sp.erfcx(X), rtol=1e-13)
    assert np.asarray(erfcx(np.array([-30.0, 1e300]))).tolist() == [np.inf, pytest.approx(sp.erfcx(1e300))]


def test_erfcx_gradient_is_the_closed_form():
    x = np.linspace(-5, 30, 701)
    grad = np.asarray(jax.vmap(jax.grad(erfcx))(x))
    np.testing.assert_allclose(grad, 2 * x * sp.erfcx(x) - 2 / np.sqrt(np.pi), rtol=1e-10, atol=1e-15)
    assert np.isfinite(np.asarray(jax.vmap(jax.grad(erfcx))(np.array([1e3, 1e5, 1e8])))).all()


@pytest.mark.parametrize("mode", ["FAST_RUN", "JAX"])
def test_log_cdf_and_gradient_match_scipy(mode):
    z = pt.dvector("z")
    f = _log_std_normal_cdf(z)
    value, grad = pytensor.function([z], [f, pt.grad(f.sum(), z)], mode=mode)(Z)
    np.testing.assert_allclose(value, sp.log_ndtr(Z), rtol=1e-10, atol=1e-300)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, _phi_over_Phi(Z), rtol=1e-9, atol=1e-300)


def test_interval_gradient_is_finite_under_jax_autodiff():
    """JAX's own gradient (what nutpie's gradient_backend="jax" uses) through the censored row,
    including far-violated bounds and open ends: finite, equal to PyTensor's symbolic one."""
    lo, hi, mu, sigma = (pt.dvector(n) for n in ("lo", "hi", "mu", "sigma"))
    out = interval_normal_logp(lo, hi, mu, sigma)
    fn = pytensor.function([lo, hi, mu, sigma], out, mode="JAX").vm.jit_fn
    rows = np.array([[0.0, 1e3, 5.0, 0.1], [-1e3, 0.0, 40.0, 0.05], [1.0, 1e3, 1.0, 1.0],
                     [-1e3, 2.0, 2.0, 3.0], [0.0, 0.1, 30.0, 0.01], [0.0, 0.1, -30.0, 0.01]]).T
    grad = jax.grad(lambda m: fn(rows[0], rows[1], m, rows[3])[0].sum())(rows[2])
    sym = pytensor.function([lo, hi, mu, sigma], pt.grad(out.sum(), mu))(*rows)
    assert np.isfinite(np.asarray(grad)).all()
    np.testing.assert_allclose(np.asarray(grad), sym, rtol=1e-9)


def test_baseline_jax_density_equals_pymc_c_backend():
    """nutpie's jax backend (the "nutpie-jax" sampler's density, data as inputs) against PyMC's
    C backend on the shipped baseline: at the start point and at random points, logp and every
    gradient component finite and equal (rel 1e-8)."""
    from analysis.data.check import validate
    from analysis.data.ingest import tidy_observations
    from analysis.model.build import build_model
    from analysis.model.evidence import build_evidence
    from analysis.model.fit import compile_nutpie
    from analysis.model.start import PyFuncLogp, StartFinder
    from analysis.scenarios import load_scenario
    from tests.conftest import REPO

    sc = load_scenario("baseline")
    ev = build_evidence(tidy_observations(validate(REPO / "data" / "raw")), sc)
    model = build_model(ev, sc)
    compiled, frozen = compile_nutpie(model, "jax")
    jax_fn, finder = PyFuncLogp(compiled), StartFinder(frozen)
    c_fn = model.logp_dlogp_function(ravel_inputs=True)
    c_fn.set_extra_values({})
    names = [v.name for v in model.value_vars]

    def c_order(x):  # the frozen copy may order its value variables differently
        point = finder._unflat(x)
        return np.concatenate([np.ravel(point[n]) for n in names])

    x0 = finder.x0(model.tgap_start)
    rng = np.random.default_rng(16)
    points = [x0] + [x0 + rng.normal(0, 0.3, x0.size) for _ in range(3)]
    for x in points:
        logp, grad = jax_fn(x)
        ref_logp, ref_grad = c_fn(c_order(x))
        assert np.isfinite(logp) and np.isfinite(grad).all()
        assert logp == pytest.approx(float(ref_logp), rel=1e-8)
        np.testing.assert_allclose(c_order(grad), ref_grad, rtol=1e-8, atol=1e-8 * np.abs(ref_grad).max())
    # the random points are not the start point in disguise
    assert abs(jax_fn(points[1])[0] - jax_fn(x0)[0]) > 1.0
    # compile once, vary data: another scenario's inputs swapped in give that scenario's density
    import pymc as pm

    from analysis.model.inputs import model_inputs
    from analysis.model.start import held_data
    from tests.test_compile_once import NUMERIC_OVERRIDES

    other = sc.with_overrides(NUMERIC_OVERRIDES)
    inputs = model_inputs(build_evidence(tidy_observations(validate(REPO / "data" / "raw")), other), other)
    swapped = PyFuncLogp(compiled.with_data(**held_data(compiled, inputs)))
    with model:
        pm.set_data(inputs)
    logp, grad = swapped(points[1])
    ref_logp, ref_grad = c_fn(c_order(points[1]))
    assert logp == pytest.approx(float(ref_logp), rel=1e-8)
    np.testing.assert_allclose(c_order(grad), ref_grad, rtol=1e-8, atol=1e-8 * np.abs(ref_grad).max())
    assert abs(logp - jax_fn(points[1])[0]) > 1.0
    with pytest.raises(RuntimeError, match="the compiled log density has dimension"):
        jax_fn(np.zeros(3))


def test_mode_start_hook_for_both_compiled_kinds():
    """Both backends compile to a PyFuncModel (numba through ``numba_cached``, jax through nutpie),
    which takes the start as ``_make_initial_points``; every chain starts at the given point, in
    the order of the model's value variables."""
    import dataclasses
    from types import SimpleNamespace

    from analysis.model.start import nutpie_with_start

    @dataclasses.dataclass(frozen=True)
    class PyFunc:
        _make_initial_points: object = None

    model = SimpleNamespace(value_vars=[SimpleNamespace(name="b"), SimpleNamespace(name="a")])
    point = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    assert nutpie_with_start(PyFunc(), model, point)._make_initial_points(7).tolist() == [3.0, 1.0, 2.0]


def test_jax_density_reports_a_non_finite_gradient_as_minus_inf():
    from types import SimpleNamespace

    from analysis.model.start import PyFuncLogp

    def make():
        return lambda x, **data: (float(x.sum() + data["k"]), np.array([1.0, np.nan]))

    fn = PyFuncLogp(SimpleNamespace(_make_logp_func=make, _shared_data={"k": 2.0}, n_dim=2))
    assert fn(np.array([1.0, 1.0]))[0] == -np.inf
    fn_ok = PyFuncLogp(SimpleNamespace(_make_logp_func=lambda: lambda x, **d: (float(x.sum() + d["k"]), x),
                                    _shared_data={"k": 2.0}, n_dim=2))
    assert fn_ok(np.array([1.0, 1.0]))[0] == 4.0


def test_use_jax_sets_one_xla_thread_and_the_project_cache_unless_told_otherwise(monkeypatch, tmp_path):
    import os

    import analysis.model.fit as fit

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.setattr(fit, "CACHE_DIR", tmp_path)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    try:
        fit.use_jax()
        assert os.environ["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax")
        monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
        fit.use_jax()
        assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=2"
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
