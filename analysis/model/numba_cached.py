"""nutpie's numba backend through a cached Python-callable density (``nutpie.from_pyfunc``).

nutpie's own numba route wraps PyTensor's compiled density in a numba ``cfunc`` that cannot be
cached ("uses dynamic globals"); compiling it re-links and re-generates machine code for the
whole density in every process (96 s on the benchmark machine even with every PyTensor op in
numba's disk cache; 142 s before ``numba_ops`` made ``erfcx`` cacheable). Here nutpie calls
PyTensor's own numba function, which numba's disk cache (PyTensor's locator, under
``base_compiledir``) loads in a fraction of a second in a fresh process. The function is
compiled with ``nogil=True`` (under its own cache key) so the chains' density calls run in
parallel; what is left per call is one Python call into numba (0.14-0.17 ms per density and
gradient here). BENCHMARKS.md has the side-by-side numbers.

This uses nutpie's private helpers (``_make_functions``, ``_prepare_dims_and_coords``) exactly as
its own JAX route does; tests/test_compile_once.py (the baseline) and tests/test_numba_ops.py (a
small model) check the density and gradient against PyMC's.
"""

from __future__ import annotations

import types

import numpy as np


def nogil(dispatcher):
    """The same PyTensor-generated numba function compiled with ``nogil=True``, cached on disk
    under its own key (numba's cache index does not include the flags, so the key must differ
    from the GIL-holding build's)."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS
    from pytensor.link.numba.dispatch.basic import numba_njit

    py = dispatcher.py_func
    key = CACHED_SRC_FUNCTIONS.get(py)
    copy = types.FunctionType(py.__code__, py.__globals__, py.__name__, py.__defaults__, py.__closure__)
    if key is not None:  # None: some op in the graph has no cache key (compiled anew each process)
        CACHED_SRC_FUNCTIONS[copy] = key + "_nogil"
    return numba_njit(copy, final_function=True, cache=key is not None, nogil=True)


def compile_numba_cached(model):
    """A nutpie ``PyFuncModel`` for ``model`` whose density and expansion are PyTensor's numba
    functions (data stay inputs: ``with_data`` swaps them without compiling)."""
    from nutpie.compile_pymc import _make_functions, _prepare_dims_and_coords, _wrap_with_lock
    from nutpie.compiled_pyfunc import from_pyfunc
    from pymc.initial_point import make_initial_point_fn

    import analysis.model.numba_ops  # noqa: F401  (erfcx with a cache key)

    initial = _wrap_with_lock(make_initial_point_fn(
        model=model, jitter_rvs=set(model.free_RVs), default_strategy="support_point",
        return_transformed=True))
    n_dim, _, logp_pt, expand_pt, initial_point_fn, shape_info = _make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=False, pymc_initial_point_fn=initial)
    logp_fn, expand_fn = nogil(logp_pt.vm.jit_fn), expand_pt.vm.jit_fn
    logp_names = [v.name for v in logp_pt.get_shared()]
    expand_names = [v.name for v in expand_pt.get_shared()]
    shared, seen = {}, set()
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var.name in shared and var not in seen:
            raise ValueError(f"shared variables must have unique names: {var.name}")
        shared[var.name] = np.asarray(var.get_value(), order="C")  # (ascontiguousarray makes 0-d 1-d)
        seen.add(var)
    names, _slices, shapes = shape_info
    dtypes = [np.dtype("float64")] * len(names)

    def make_logp_func():
        def logp(x, **data):
            value, grad = logp_fn(x, *[data[n] for n in logp_names])
            return float(value), np.asarray(grad, dtype="float64", order="C")
        return logp

    def make_expand_func(seed1, seed2, chain):
        def expand(x, **data):
            values = expand_fn(x, *[data[n] for n in expand_names])
            return {name: np.asarray(v, order="C", dtype=dt).reshape(shape)
                    for name, v, dt, shape in zip(names, values, dtypes, shapes, strict=True)}
        return expand

    dims, coords = _prepare_dims_and_coords(model, shape_info)
    # a copy: nutpie returns the model's own named_vars_to_dims and adds dims to it (e.g.
    # "noise_lognormal_dim_0"), after which PyMC cannot rebuild the model for the log-likelihood
    dims = {name: tuple(d) for name, d in dims.items()}
    return from_pyfunc(ndim=n_dim, make_logp_fn=make_logp_func, make_expand_fn=make_expand_func,
                       make_initial_point_fn=initial_point_fn, expanded_dtypes=dtypes,
                       expanded_shapes=shapes, expanded_names=names, shared_data=shared,
                       dims=dims, coords=coords)
