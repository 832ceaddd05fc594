"""Finite-difference gradient, Hessian, Hessian-vector product and noise level of f.

Public entry points over :mod:`curvopt.fd`; each returns an
:class:`~curvopt.fd.estimates.Estimate` (``value``, elementwise ``error``, ``f``, ``step``,
``noise``, ``nfev``, ``smooth``). Steps (Nocedal & Wright 2006, sec. 8.1; More & Wild 2012)
come from the relative noise eps_f of f, measured by ECnoise unless ``noise`` is given:

    central gradient    h_i = eps_f^(1/3) max(1, |x_i|)      2n evaluations (4n with bound)
    forward gradient    h_i = eps_f^(1/2) max(1, |x_i|)      n (2n with bound)
    Hessian             h_i = eps_f^(1/4) max(1, |x_i|)      2n^2 + 1 (4n^2 + 2n + 1 with bound)

overridable by ``step`` (absolute) or ``rel_step`` (relative to max(1, |x_i|)); the error
bounds are those of :mod:`curvopt.fd.bounds` (Richardson with a second step 2h, rounding
of f, the steps, and for the Hessian a smoothness check at h, 2h, 4h). Relative error used
in the tests and benchmark: max |H - H_true| / max |H_true|.

References
----------
.. [1] J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006, ch. 8.
.. [2] J. J. More and S. M. Wild, "Estimating computational noise", SIAM J. Sci. Comput.
   33(3), 2011; "Estimating derivatives of noisy simulations", ACM TOMS 38(3), 2012.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from curvopt.fd.estimates import (Estimate, gradient_estimate, hessian_estimate,
                                  hvp_estimate)
from curvopt.fd.noise import NoiseEstimate, assumed_noise, estimate_noise
from curvopt.fd.steps import steps_for
from curvopt.model import base_value
from curvopt.objective import Objective
from curvopt.options import deprecated_parallel

__all__ = ["gradient", "hessian", "hessp", "noise_level", "Estimate", "NoiseEstimate"]


def _at_point(fun, x, args, noise, vectorized, jac=None, workers=None):
    """(obj, x, f0, noise): the objective, validated x, f(x) and the noise of f there
    (the caller closes obj; on an error here it is closed before raising)."""
    obj = Objective(fun, x, args, jac=jac, vectorized=vectorized, workers=workers)
    x = obj.x0
    try:
        if noise is None:                     # f(x) in the batch of the noise line
            est = estimate_noise(obj, x)
            return obj, x, est.f, est
        if not (np.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
        f0 = base_value(obj, x)
        est = assumed_noise(obj, f0, noise)
    except BaseException:
        obj.close()
        raise
    return obj, x, f0, est


def hessian(fun, x, args=(), *, step=None, rel_step=None, noise=None, error=True,
            vectorized=False, workers=None, parallel=None):
    """Central finite-difference Hessian of f at x with an elementwise error bound.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; a numba ``@njit`` function runs the stencil compiled.
    x : array_like, shape (n,)
    args : tuple
        Extra arguments of fun.
    step, rel_step : float or array, optional
        Absolute step, or step relative to ``max(1, |x_i|)``. Default
        ``eps_f^(1/4) max(1, |x_i|)``.
    noise : float, optional
        Absolute noise level (standard deviation) of f; estimated by ECnoise when None.
    error : bool
        Compute the error bound (a second stencil at 2h and the smoothness check).
    vectorized : bool
        ``fun`` takes an (n, m) array of m points and returns m values.
    workers : int, callable or concurrent.futures.Executor, optional
        Evaluate the stencil's batches in parallel (:mod:`curvopt.parallel`): a number of
        processes (-1: all cores) started for this call, a map ``workers(func, iterable)``
        or an Executor; the values are those of the serial path.
    parallel : bool, optional
        Deprecated: use ``workers`` (``parallel=True`` means ``workers=-1``).

    Returns
    -------
    Estimate
        ``value`` the symmetric H, ``error`` its elementwise bound (NaN without
        ``error``), ``gradient`` the central gradient read from the stencil's axis
        points (an Estimate), ``smooth`` False when f is not smooth at the step scale.

    Examples
    --------
    >>> import numpy as np, curvopt
    >>> r = curvopt.hessian(lambda z: z[0]**2 * z[1], [1.0, 2.0])
    >>> np.round(r.value, 6).tolist(), bool(np.all(r.error < 1e-6))
    ([[4.0, 2.0], [2.0, 0.0]], True)
    """
    workers = deprecated_parallel(parallel, workers)
    obj, x, f0, est = _at_point(fun, x, args, noise, vectorized, workers=workers)
    with obj:
        h = steps_for(x, est.step_rel, "hessian", step, rel_step)
        r = hessian_estimate(obj, x, f0, est.sigma, h, errors=error)
    grad = Estimate(r.g, r.g_err, f0, r.stencil.h2, r.sigma, obj.nfev, r.smooth)
    return Estimate(r.H, r.H_err, f0, r.h, r.sigma, obj.nfev, r.smooth, gradient=grad)


def gradient(fun, x, args=(), *, scheme="central", step=None, rel_step=None, noise=None,
             vectorized=False, workers=None, parallel=None):
    """Finite-difference gradient of f at x with an elementwise error bound.

    Central (default: 4n evaluations plus f(x) and the noise estimate) or forward (2n),
    each with a Richardson bound from a second step 2h. Parameters (``workers`` too) as
    :func:`hessian`.

    Returns
    -------
    Estimate
        ``value`` the gradient, ``error`` its elementwise bound, ``rounding`` the
        rounding part of it.
    """
    if scheme not in ("central", "forward"):
        raise ValueError(f"scheme must be 'central' or 'forward'; got {scheme!r}")
    workers = deprecated_parallel(parallel, workers)
    obj, x, f0, est = _at_point(fun, x, args, noise, vectorized, workers=workers)
    with obj:
        h = steps_for(x, est.step_rel, scheme, step, rel_step)
        r = gradient_estimate(obj, x, f0, est.sigma, h, scheme=scheme, errors=True)
    return replace(r, nfev=obj.nfev)


def hessp(fun, x, v, args=(), *, jac=None, step=None, noise=None, vectorized=False,
          workers=None):
    """Hessian-vector product H(x) v without forming H, with an elementwise error bound.

    With ``jac``: the central difference of gradients along v (4 gradient calls with the
    Richardson step 2e, ``e = eps^(1/3) max(1, |x|) / max|v|``). Without: from f alone, the
    central difference along v of central partial derivatives (8n evaluations, plus f(x)
    and the noise estimate; ``e = eps_f^(1/4) max(1, |x|) / max|v|``). ``workers`` as
    :func:`hessian`.

    Returns
    -------
    Estimate
        ``value`` = H v, ``error`` its elementwise bound (``np.linalg.norm(error)``
        bounds the 2-norm of the error); ``nfev`` counts evaluations of f plus calls of
        ``jac``.
    """
    with Objective(fun, x, args, jac=jac, vectorized=vectorized, workers=workers) as obj:
        return _hessp(obj, v, step, noise)


def _hessp(obj, v, step, noise):
    """:func:`hessp` on an objective."""
    x = obj.x0
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (obj.n,) or not np.all(np.isfinite(v)):
        raise ValueError(f"v must be a finite vector of shape ({obj.n},); got shape {v.shape}")
    vmax = float(np.abs(v).max())
    xs = max(1.0, float(np.abs(x.astype(np.float64)).max()))
    if vmax == 0:
        z = np.zeros(obj.n)
        return Estimate(z, z.copy(), float("nan"), z.copy(), 0.0, 0)
    if obj.has_grad:
        e = float(step) if step is not None else obj.f_eps ** (1 / 3) * xs / vmax
        return hvp_estimate(obj, x, 0.0, v, e)
    f0 = base_value(obj, x)
    est = estimate_noise(obj, x, f0) if noise is None else assumed_noise(obj, f0, noise)
    h = steps_for(x, est.step_rel, "hessian", step)
    e = float(np.max(h)) / vmax if step is not None else est.step_rel ** 0.25 * xs / vmax
    r = hvp_estimate(obj, x, est.sigma, v, e, h)
    return replace(r, f=f0, nfev=obj.nfev)


def noise_level(fun, x, args=(), *, m=6, delta=1e-4, seed=0, vectorized=False,
                workers=None):
    """Noise level of f at x from function values (ECnoise, More & Wild 2011).

    Samples f along a seeded random line through x (m + 1 points, m new evaluations per
    attempt, at most 3 attempts with delta rescaled by 100) and returns a
    :class:`~curvopt.fd.noise.NoiseEstimate` (``sigma``, ``rel``, ``step_rel``, ...);
    its ``nfev`` includes the evaluation of f(x). ``workers`` as :func:`hessian`.
    """
    with Objective(fun, x, args, vectorized=vectorized, workers=workers) as obj:
        est = estimate_noise(obj, obj.x0, m=m, delta=delta, seed=seed)
    return replace(est, nfev=obj.nfev)
