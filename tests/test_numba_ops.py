"""The cacheable numba erfcx (analysis/model/numba_ops.py): scipy's values in both tails, PyTensor
dispatches Erfcx to it with a cache key, and a graph holding erfcx (the censored rows' log-CDF)
now gets a cache key as a whole, so numba can reuse it in a fresh process."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.special as sp
from pytensor.graph.fg import FunctionGraph
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

from analysis.model import numba_ops
from analysis.model.build import _log_std_normal_cdf

# both tails, the switch point x = 12 from both sides, the model's open-end sentinels (~1e5)
X = np.concatenate([np.linspace(-26, 40, 6601), np.geomspace(1, 1e5, 500),
                    [12.0, np.nextafter(12.0, 13.0), np.nextafter(12.0, 0.0)]])
Z = np.concatenate([np.linspace(-40, 40, 4001), [-1.0, -1.0 - 1e-12, -1e3, 1e3, -1e5, 1e5]])


def test_erfcx_matches_scipy_in_both_tails():
    got = np.array([numba_ops.erfcx(x) for x in X])
    np.testing.assert_allclose(got, sp.erfcx(X), rtol=1e-13)
    assert numba_ops.erfcx(-30.0) == np.inf and numba_ops.erfcx(np.inf) == 0.0
    assert np.isnan(numba_ops.erfcx(np.nan))


def test_erfcx_dispatches_to_the_cacheable_implementation():
    from pytensor.scalar.basic import ScalarOp

    node = pt.erfcx(pt.dscalar("x")).owner
    op = node.op.scalar_op
    fn, key = numba_funcify_and_cache_key(op, node=node)
    assert key == numba_ops.CACHE_KEY and key.startswith("tgap_erfcx_")
    assert fn(3.0) == pytest.approx(sp.erfcx(3.0), rel=1e-14)
    # PyTensor's own implementation (scipy's Cython erfcx through a pointer) has no cache key
    _, generic_key = numba_funcify_and_cache_key.dispatch(ScalarOp)(op, node=node)
    assert generic_key is None


def test_graph_with_erfcx_gets_a_cache_key():
    """Without the registration PyTensor gives Erfcx (a scipy function pointer) no key, and with
    it none to the graph: the whole log density was recompiled in every process."""
    z = pt.dvector("z")
    out = _log_std_normal_cdf(z)
    fg = FunctionGraph([z], [out, pt.grad(out.sum(), z)], clone=True)
    _, key = numba_funcify_and_cache_key(fg)
    assert key is not None


def test_log_cdf_and_gradient_in_numba_match_scipy():
    z = pt.dvector("z")
    f = _log_std_normal_cdf(z)
    value, grad = pytensor.function([z], [f, pt.grad(f.sum(), z)], mode="NUMBA")(Z)
    np.testing.assert_allclose(value, sp.log_ndtr(Z), rtol=1e-10, atol=1e-300)
    phi_over_Phi = np.sqrt(2.0 / np.pi) / sp.erfcx(-Z / np.sqrt(2.0))
    np.testing.assert_allclose(grad, phi_over_Phi, rtol=1e-9, atol=1e-300)


def test_cached_numba_route_gives_pymcs_density_without_the_gil(monkeypatch):
    """nutpie's numba route through PyTensor's own (disk-cached) numba function: the density and
    gradient equal PyMC's, data swapped with ``with_data`` change it, the density is compiled
    with nogil under its own cache key, and held data keep the dtype and layout compiled for."""
    import pymc as pm
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    from analysis.model import numba_cached
    from analysis.model.start import PyFuncLogp, held_data

    with pm.Model() as model:
        y = pm.Data("y", np.array([0.5, 1.5, 2.0]))
        scale = pm.Data("scale", np.array(10.0))  # a 0-d input stays 0-d (else numba cannot type it)
        mu = pm.Normal("mu", 0.0, scale)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Censored("obs", pm.Normal.dist(mu, sigma), lower=0.0, upper=None, observed=y)
    made = []
    real_nogil = numba_cached.nogil

    def spy(dispatcher):
        made.append(real_nogil(dispatcher))
        return made[-1]

    monkeypatch.setattr(numba_cached, "nogil", spy)
    compiled = numba_cached.compile_numba_cached(model)
    [fn] = made
    assert fn.targetoptions["nogil"] is True
    assert CACHED_SRC_FUNCTIONS[fn.py_func].endswith("_nogil")
    x = np.array([0.3, -0.2])
    ref = model.logp_dlogp_function(ravel_inputs=True)
    ref.set_extra_values({})
    logp, grad = PyFuncLogp(compiled)(x)
    ref_logp, ref_grad = ref(x)
    assert logp == pytest.approx(float(ref_logp), rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10)
    frozen = np.array([0.5, 1.5, 2.5])
    frozen.flags.writeable = False  # as model_inputs may hand them over
    held = held_data(compiled, {"y": frozen[::-1].copy(order="F"), "scale": 5, "unused": np.zeros(2)})
    assert held_data(compiled, {"y": frozen})["y"].flags.writeable  # numba types read-only apart
    assert sorted(held) == ["scale", "y"] and held["y"].dtype == np.float64 and held["y"].flags.c_contiguous
    assert held["scale"].shape == () and held["scale"].dtype == np.float64
    assert abs(PyFuncLogp(compiled.with_data(**held))(x)[0] - logp) > 0.1
    assert len(fn.signatures) == 1  # the swapped data did not compile a second specialisation
