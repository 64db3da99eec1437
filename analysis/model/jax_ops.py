"""JAX implementations PyTensor lacks (it borrows them from tensorflow-probability, not installed).

Importing this module registers them with PyTensor's JAX backend; the JAX samplers
(``fit.py``: "nutpie-jax", "numpyro") import it before compiling. Only ``Erfcx`` is needed: the
normal log-CDF of the censored rows (``build._log_std_normal_cdf``) uses it.

``erfcx(x) = exp(x^2) erfc(x)``: computed directly up to ``x = 12`` (relative error ~x^2 eps)
and by its asymptotic series above (ten terms: truncation error below 1e-16 there), where the
direct form underflows (the model's open interval ends give |x| up to ~1e5). Each branch is fed
a safe input when unused, and the derivative is the closed form ``2 x erfcx(x) - 2/sqrt(pi)``
(a ``custom_jvp``), so JAX's own gradient never passes through an unused branch (0 * inf = NaN).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import erfc
from pytensor.link.jax.dispatch import jax_funcify
from pytensor.scalar.math import Erfcx

from analysis.model.numba_ops import (  # one formula, two backends
    _INV_SQRT_PI,
    SERIES_FROM,
    SERIES_TERMS,
)


def _series(x):
    """1/(x sqrt(pi)) * sum_n (-1)^n (2n-1)!! / (2x^2)^n, n < SERIES_TERMS (x >= SERIES_FROM)."""
    u = 1.0 / (2.0 * x * x)
    total, term = jnp.ones_like(x), jnp.ones_like(x)
    for n in range(1, SERIES_TERMS):
        term = -term * (2 * n - 1) * u
        total = total + term
    return total * _INV_SQRT_PI / x


@jax.custom_jvp
def erfcx(x):
    x = jnp.asarray(x, dtype=jnp.result_type(x, 1.0))
    far = x > SERIES_FROM
    near_x = jnp.where(far, SERIES_FROM, x)  # the direct form never sees a far x (0 * inf)
    far_x = jnp.where(far, x, SERIES_FROM)
    return jnp.where(far, _series(far_x), jnp.exp(near_x * near_x) * erfc(near_x))


@erfcx.defjvp
def _erfcx_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    y = erfcx(x)
    return y, (2.0 * x * y - 2.0 * _INV_SQRT_PI) * dx


@jax_funcify.register(Erfcx)
def _jax_funcify_erfcx(op, **kwargs):
    return erfcx
