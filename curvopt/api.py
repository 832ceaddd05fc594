"""``minimize``: scipy's custom-method contract around the curvopt trust-region loop.

``scipy.optimize.minimize(fun, x0, method=curvopt.minimize)`` calls

    minimize(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp, bounds=bounds,
             constraints=constraints, callback=callback, **options)

and returns what this returns: a :class:`scipy.optimize.OptimizeResult` (the only module
of curvopt that builds one). ``tol`` arrives as an option; ``jac=True`` arrives as fun
wrapped in scipy's memoizer (handled by :class:`~curvopt.objective.Objective`); scipy's
finite-difference strings ('2-point', '3-point', 'cs') arrive as ``jac=None`` and curvopt
uses its own finite differences. Callback rule as scipy's: a callback whose only
parameter is ``intermediate_result`` receives an ``OptimizeResult`` (x, fun), otherwise a
copy of x; ``StopIteration`` raised by the callback ends the run with status 99.
"""
from __future__ import annotations

import inspect
import time

import numpy as np
from scipy.optimize import OptimizeResult

from curvopt.objective import Objective
from curvopt.options import parse_options
from curvopt.status import Status
from curvopt.newton_krylov import solve_krylov, use_krylov
from curvopt.trust_region import solve

__all__ = ["minimize"]

_FD_STRINGS = ("2-point", "3-point", "cs")


def _check_unconstrained(bounds, constraints):
    hint = ("curvopt is an unconstrained minimizer; reparametrize instead, e.g. x = exp(z) "
            "for x > 0, x = lo + (hi - lo) / (1 + exp(-z)) for lo < x < hi, or use "
            "scipy's 'trust-constr' / 'L-BFGS-B'")
    if bounds is not None:
        raise ValueError(f"bounds are not supported: {hint}")
    if constraints is not None and len(constraints if isinstance(constraints, (list, tuple))
                                       else [constraints]) > 0:
        raise ValueError(f"constraints are not supported: {hint}")


def _wrap_callback(callback):
    """scipy's rule: ``intermediate_result`` as only parameter -> OptimizeResult."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"callback must be callable; got {type(callback).__name__}")
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = set()
    if params == {"intermediate_result"}:
        return lambda row: callback(intermediate_result=OptimizeResult(x=row.x, fun=row.f))
    return lambda row: callback(np.copy(row.x))


class _Progress:
    """``disp=True``: a line before a batch of more than n evaluations expected to take
    more than ``LONG`` seconds (at the rate measured so far), and before any batch once
    ``EVERY`` seconds have passed since its last line (a long CG solve or Lanczos run of
    small batches is not silent)."""

    LONG, EVERY = 2.0, 5.0

    def __init__(self, obj):
        self.obj, self.t0 = obj, time.monotonic()
        self.last = self.t0

    def __call__(self, m):
        now = time.monotonic()
        nfev = max(self.obj.nfev, 1)
        expected = m * (now - self.t0) / nfev
        if (m > self.obj.n and expected > self.LONG) or now - self.last > self.EVERY:
            self.last = now
            print(f"      evaluating a batch of {m} points (~{expected:.1f} s at the rate so "
                  f"far; {now - self.t0:.1f} s, nfev {self.obj.nfev})", flush=True)


class _Reporter:
    """Receives each :class:`~curvopt.trust_region.Iterate` from the loop: history,
    allvecs, the ``disp`` log, and the user callback (after each iteration but the last)."""

    def __init__(self, callback, disp, keep):
        self.callback, self.disp, self.keep = _wrap_callback(callback), disp, keep
        self.rows = []

    def __call__(self, row, final):
        if self.keep:
            self.rows.append(row)
        if self.disp:
            if row.nit == 0:
                print(f"{'iter':>5} {'f':>14} {'norm(g)':>10} {'lam_min':>11} "
                      f"{'radius':>10}  step")
            print(f"{row.nit:5d} {row.f:14.7g} {row.grad_norm:10.3g} {row.lam_min:11.3g} "
                  f"{row.delta:10.3g}  {row.kind}")
        if self.callback is not None and row.nit > 0 and not final:
            self.callback(row)


def _names(cert, idx):
    return ", ".join(str(cert.names[i]) if cert is not None and cert.names is not None
                     else f"x[{i}]" for i in idx)


def _message(status, cert, ray, names):
    msg = status.message
    if cert is not None and status == Status.DEGENERATE_MINIMUM and cert.flat_parameters:
        msg += f" Flat parameters: {', '.join(map(str, cert.flat_parameters))}."
    if cert is not None and status == Status.INCONCLUSIVE and cert.inconclusive:
        msg += f" {cert.inconclusive}"
    if status == Status.NO_FINITE_MINIMIZER and ray is not None:
        msg += " " + _divergence(ray, names)
    return msg


def _divergence(ray, names):
    """What the NO_FINITE_MINIMIZER ending rests on, and the parameters that diverge."""
    d = np.abs(ray.direction) / max(float(np.abs(ray.direction).max()), 1e-300)
    idx = np.flatnonzero(d > 0.3)
    who = ", ".join(names[i] if names else f"x[{i}]" for i in idx)
    basis = {
        "unbounded": f"f falls monotonically along the ray x + t d (see `res.ray`) to "
                     f"{ray.f_far:.6g} at t = {ray.t_far:.3g}",
        "asymptote": "f fell along the run and is constant (below its rounding level) "
                     f"along x + t d out to t = {ray.t_far:.3g}",
        "path": "f fell a hundredfold below zero at each of the last 4 runaway checks "
                "(along a curved path: straight probes cannot follow it)",
    }[ray.outcome]
    return f"Evidence: {basis}; diverging parameters: {who}."


def minimize(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
             constraints=(), callback=None, **options):
    """Minimize a smooth f with second-order steps; stop only on evidence.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``. A numba ``@njit`` function is evaluated in compiled
        loops. With ``jac=True``, ``fun`` returns ``(f, g)``.
    x0 : array_like, shape (n,)
        Start. Ints become float64, float32 stays float32, a 0-d value becomes shape (1,).
    args : tuple
        Extra arguments of fun, jac, hess, hessp.
    jac, hess, hessp : callable, optional
        Derivatives if available (``jac=True`` also accepted). Strings such as
        ``'2-point'`` mean "no derivative": curvopt uses its own finite differences.
    bounds, constraints : must be None / empty
        curvopt is unconstrained; a ValueError suggests a reparametrization.
    callback : callable, optional
        ``callback(xk)`` or ``callback(intermediate_result)`` after each iteration.
    **options
        See :mod:`curvopt.options` for every option, its default and its source. scipy's
        names: ``gtol`` (optional absolute gradient tolerance; ``tol`` sets it),
        ``maxiter``, ``disp``, ``initial_trust_radius``, ``max_trust_radius``, ``eta``,
        ``return_all``; curvopt's: ``maxfev``, ``maxtime``, ``stall``, ``ctol``,
        ``hessian_update``, ``fd_step``, ``noise``, ``trust_scaling``, ``names``,
        ``vectorized``, ``history``, ``subproblem`` ("auto": the matrix-free loop of
        :mod:`curvopt.newton_krylov` above n = 64 or with ``hess_sparsity``, the pattern
        of H as scipy's ``jac_sparsity``), ``workers`` (an int number of processes, -1 for all
        cores, a map ``workers(func, iterable)`` or an Executor: see
        :mod:`curvopt.parallel`; the deprecated ``parallel=True`` means ``workers=-1``).

    Returns
    -------
    OptimizeResult
        x, fun, jac, hess (None on the matrix-free path: no n x n matrix is formed), nit,
        nfev, njev, nhev, status, success, message, plus
        ``certificate`` (:class:`~curvopt.certificate.Certificate` at x, or None when no
        certificate was made), ``ray`` (for NO_FINITE_MINIMIZER: the probe along which f
        kept falling), ``history`` and ``allvecs`` when asked. ``success`` is True only
        for MINIMUM and DEGENERATE_MINIMUM (see :class:`~curvopt.status.Status`).

    Examples
    --------
    Started exactly on the strict saddle of f at the origin, from function values only:

    >>> import numpy as np, scipy.optimize, curvopt
    >>> f = lambda z: z[0]**2 - z[1]**2 + z[1]**4 / 4
    >>> res = scipy.optimize.minimize(f, np.zeros(2), method=curvopt)
    >>> res.success, res.certificate.classification
    (True, 'minimum')
    >>> np.round(np.abs(res.x), 4).tolist()
    [0.0, 1.4142]
    """
    _check_unconstrained(bounds, constraints)
    jac = None if (isinstance(jac, str) and jac in _FD_STRINGS) or jac is False else jac
    hess = None if isinstance(hess, str) and hess in _FD_STRINGS else hess
    if hess is not None and not callable(hess):
        raise TypeError("hess must be a callable; quasi-Newton strategies are built in")
    x = np.asarray(x0)
    if x.ndim > 1:
        raise ValueError(f"x0 must be 1-D; got shape {x.shape}")
    args = args if isinstance(args, tuple) else (args,)
    opts = parse_options(x.size, options)
    reporter = _Reporter(callback, opts.disp, opts.history or opts.return_all)
    obj = Objective(fun, np.atleast_1d(x), args, jac=jac, hess=hess, hessp=hessp,
                    vectorized=opts.vectorized, maxfev=opts.maxfev, workers=opts.workers)
    if opts.disp:
        obj.progress = _Progress(obj)
    with obj:                       # shuts down a pool started for workers=<int>
        loop = solve_krylov if use_krylov(obj.n, opts, obj.has_hess) else solve
        run = loop(obj, opts, reporter)
    res = OptimizeResult(
        x=run.x, fun=run.f, jac=run.g, hess=run.H, nit=run.nit, nfev=obj.nfev,
        njev=obj.njev, nhev=obj.nhev, status=int(run.status), success=run.status.success,
        message=_message(run.status, run.certificate, run.ray, opts.names),
        certificate=run.certificate)
    if run.ray is not None:
        res.ray = run.ray
    if opts.history:
        res.history = list(reporter.rows)
    if opts.return_all:
        res.allvecs = [row.x for row in reporter.rows]
    if opts.disp:
        print(res.message)
        print(f"         Current function value: {run.f:.6g}\n         Iterations: {run.nit}"
              f"\n         Function evaluations: {obj.nfev}")
    return res
