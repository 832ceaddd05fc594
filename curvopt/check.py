"""Certify a candidate point of any optimizer: ``check(fun, x)`` and ``check(result, fun)``.

``check`` builds the local model m(p) = f + g'p + p'Hp/2 at x with error bounds on g and
H (finite differences of :mod:`curvopt.differentiate`, or the user's ``jac`` / ``hess``
with rounding-level bounds) and returns :func:`curvopt.certificate.certify` of it. It
spends about ``4 n^2 + 6 n + 7`` evaluations of f for a finite-difference Hessian with
bounds (two stencils, a third step on the axes, a central gradient, ECnoise; fewer with
``jac``, one Hessian call with ``hess``), and never moves x.

Example
-------
>>> import numpy as np
>>> from curvopt.check import check
>>> check(lambda z: z[0]**2 - z[1]**2 + z[1]**4 / 4, [0.0, 0.0]).classification
'saddle'
"""
from __future__ import annotations

import numpy as np

from curvopt.certificate import Certificate, certify, check_options
from curvopt.fd.noise import assumed_noise
from curvopt.model import local_model
from curvopt.newton_krylov import DENSE_CERT_N, certify_point, use_krylov
from curvopt.objective import Objective, validate_x0
from curvopt.options import parse_options

__all__ = ["check"]


def _is_result(obj) -> bool:
    """True for a scipy OptimizeResult (or any mapping / object with an ``x`` and no call)."""
    if callable(obj):
        return False
    return hasattr(obj, "x") or (isinstance(obj, dict) and "x" in obj)


def _point(x, names) -> np.ndarray:
    if x is None:
        raise ValueError("check(fun, x): the point x is missing")
    arr = validate_x0(x, name="the point x")
    if names is not None and len(names) != arr.size:
        raise ValueError(f"the point x has length {arr.size} but {len(names)} names were given")
    return arr


def _first_value(obj: Objective, x: np.ndarray) -> float:
    """f(x), turning a failure on a wrong-length point into a ValueError that says so."""
    try:
        f0 = obj.f(x)
    except (IndexError, ValueError) as exc:
        raise ValueError(f"evaluating fun at the point x (length {x.size}) failed with "
                         f"{type(exc).__name__}: {exc} -- is x the right length for fun and "
                         "args?") from exc
    if not np.isfinite(f0):
        raise ValueError(f"f is not finite at the point x (f = {f0})")
    return f0


def _check_derivative_shapes(jac, hess, x: np.ndarray, args: tuple) -> None:
    """Call user jac / hess once at x and name a wrong shape or a non-finite value."""
    n = x.size
    for name, fun, shape in (("jac", jac, (n,)), ("hess", hess, (n, n))):
        if not callable(fun):
            continue                     # None, or jac=True (checked through g later)
        out = fun(x, *args)
        out = np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=np.float64)
        if out.size != int(np.prod(shape)):
            raise ValueError(f"{name} returned shape {out.shape} at the point x of length "
                             f"{n}; expected {shape}")
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{name} returned non-finite values at the point x")


def check(fun_or_result, x=None, args=(), jac=None, hess=None, *, hessp=None,
          hess_err=None, jac_err=None, loading: float = 0.3, **options) -> Certificate:
    """Certify a point: minimum, saddle, maximum, degenerate, not stationary or inconclusive.

    Parameters
    ----------
    fun_or_result : callable or OptimizeResult
        ``fun(x, *args) -> float``; or a scipy ``OptimizeResult``, in which case the
        second argument is ``fun`` and the point is ``result.x``: ``check(result, fun)``.
    x : array_like, shape (n,)
        The candidate point (or ``fun`` when the first argument is a result).
    args : tuple
        Extra arguments of fun, jac, hess.
    jac, hess : callable, optional
        Exact gradient / Hessian (``jac=True``: fun returns ``(f, g)``). Without them
        g and H are central finite differences with error estimates.
    hessp : callable, optional
        Exact Hessian-vector product, passed on to the objective.
    hess_err, jac_err : float or array, optional
        Known elementwise error bounds of ``hess`` (shape (n, n) or scalar) and ``jac``
        ((n,) or scalar). Without them the bounds are the rounding level of the
        derivative's dtype, and a float32 Hessian's error is measured (a float64 call of
        hess at the same x, or ECnoise along a line); see :func:`curvopt.model.local_model`.
    loading : float
        Passed to :func:`curvopt.certificate.certify` (which parameters are flat).
    **options
        The options of :mod:`curvopt.options` that apply to one point: ``gtol``
        (optional absolute tolerance), ``names``, ``fd_step`` (Hessian step), ``noise``
        (True: ECnoise; a float: the known noise of f), ``vectorized``, ``maxfev``,
        ``workers`` (parallel evaluation, :mod:`curvopt.parallel`; the deprecated
        ``parallel=True`` means ``workers=-1``).

    Returns
    -------
    Certificate
        What the point is, with the evidence; ``nfev`` counts the evaluations spent.

    Raises
    ------
    ValueError
        Missing, empty, non-finite or wrong-length point; f or g not finite at the point;
        jac / hess of the wrong shape or not finite; a bad option (named).
    TypeError
        fun (or jac, hess) not callable.
    """
    if _is_result(fun_or_result):
        res = fun_or_result
        fun, point = x, (res["x"] if isinstance(res, dict) else res.x)
    else:
        fun, point = fun_or_result, x
    if not callable(fun):
        raise TypeError(f"fun must be callable; got {type(fun).__name__}"
                        + (" (use check(result, fun) for an OptimizeResult)" if fun is None else ""))
    names = options.get("names")
    names = None if names is None else tuple(str(s) for s in names)
    point = _point(point, names)
    opts = parse_options(point.size, {**options, "names": names}, ignore=_MINIMIZE_ONLY)
    check_options(opts.gtol, loading)
    obj = Objective(fun, point, args, jac=jac, hess=hess, hessp=hessp,
                    vectorized=opts.vectorized, maxfev=opts.maxfev, workers=opts.workers)
    with obj:                       # shuts down a pool started for workers=<int>
        if (obj.n > DENSE_CERT_N or opts.hess_sparsity is not None) and use_krylov(
                obj.n, opts, obj.has_hess) and hess_err is None and jac_err is None:
            _check_derivative_shapes(jac, hess, obj.x0, obj.args)
            return certify_point(obj, opts, _first_value(obj, obj.x0))
        model = _model(obj, jac, hess, opts, hess_err, jac_err)
    return certify(model, gtol=opts.gtol, names=names, loading=loading)


def _model(obj, jac, hess, opts, hess_err, jac_err):
    """The local model of :func:`check` at the objective's point."""
    x0 = obj.x0
    f0 = _first_value(obj, x0)
    _check_derivative_shapes(jac, hess, x0, obj.args)
    noise = None
    if opts.noise is not True:
        noise = assumed_noise(obj, f0, None if opts.noise is False else opts.noise)
    return local_model(obj, x0, f0=f0, noise=noise, errors=True, step=opts.fd_step,
                       hess_err=hess_err, jac_err=jac_err, fit_scale=opts.fd_step is None)


_MINIMIZE_ONLY = ()
