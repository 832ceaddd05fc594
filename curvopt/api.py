"""``minimize``: scipy's custom-method contract around the curvopt trust-region loop.

``scipy.optimize.minimize(fun, x0, method=curvopt.minimize)`` calls

    minimize(fun, x0, args=args, jac=jac, hess=hess, hessp=hessp, bounds=bounds,
             constraints=constraints, callback=callback, **options)

and returns what this returns: a :class:`scipy.optimize.OptimizeResult` (the only module
of curvopt that builds one). ``tol`` arrives as an option; ``jac=True`` arrives as fun
wrapped in scipy's ``MemoizeJac`` (handled by :class:`~curvopt.objective.Objective`);
scipy's finite-difference strings ('2-point', '3-point', 'cs') arrive as ``jac=None`` and
curvopt uses its own finite differences. Callback rule as scipy's: a callback whose only
parameter is ``intermediate_result`` receives an ``OptimizeResult`` (x, fun, nit),
otherwise a copy of x; ``StopIteration`` ends the run with status 99.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
from scipy.optimize import OptimizeResult, OptimizeWarning

from curvopt._status import SolverOptions, Status
from curvopt.objective import Objective
from curvopt.solver import solve

__all__ = ["minimize"]

_FD_STRINGS = ("2-point", "3-point", "cs")
_OPTIONS = {"gtol", "tol", "maxiter", "maxfev", "disp", "initial_trust_radius",
            "max_trust_radius", "eta", "return_all", "ctol", "hessian_update", "fd_step",
            "vectorized", "parallel", "history", "names", "noise", "trust_scaling"}


def _check_unconstrained(bounds, constraints):
    hint = ("curvopt is an unconstrained minimizer; reparametrize instead, e.g. x = exp(z) "
            "for x > 0, x = lo + (hi - lo) / (1 + exp(-z)) for lo < x < hi, or use "
            "scipy's 'trust-constr' / 'L-BFGS-B'")
    if bounds is not None:
        raise ValueError(f"bounds are not supported: {hint}")
    if constraints is not None and len(constraints if isinstance(constraints, (list, tuple))
                                       else [constraints]) > 0:
        raise ValueError(f"constraints are not supported: {hint}")


def _solver_options(n, options):
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        warnings.warn(f"Unknown solver options: {', '.join(unknown)}", OptimizeWarning,
                      stacklevel=3)
    gtol = options.get("gtol", options.get("tol"))
    gtol = 1e-5 if gtol is None else float(gtol)
    maxiter = options.get("maxiter")
    maxiter = 500 * n if maxiter is None else int(maxiter)
    update = options.get("hessian_update", "sr1")
    if update not in ("sr1", "fd"):
        raise ValueError(f"hessian_update must be 'sr1' or 'fd'; got {update!r}")
    if not (gtol > 0 and maxiter >= 0):
        raise ValueError(f"need gtol > 0 and maxiter >= 0; got gtol={gtol}, maxiter={maxiter}")
    scaling = options.get("trust_scaling", "none")
    if scaling not in ("none", "hessian", "x"):
        raise ValueError(f"trust_scaling must be 'none', 'hessian' or 'x'; got {scaling!r}")
    delta0 = float(options.get("initial_trust_radius", 1.0))
    delta_max = float(options.get("max_trust_radius", np.inf))
    eta = float(options.get("eta", 0.15))
    if not (0 < delta0 <= delta_max and 0 <= eta < 0.25):
        raise ValueError("need 0 < initial_trust_radius <= max_trust_radius and "
                         f"0 <= eta < 1/4; got {delta0}, {delta_max}, {eta}")
    return SolverOptions(
        gtol=gtol, maxiter=maxiter, initial_trust_radius=delta0, max_trust_radius=delta_max,
        eta=eta, ctol=float(options.get("ctol", 0.0)), hessian_update=update,
        fd_step=options.get("fd_step"), names=_names(n, options.get("names")),
        noise=bool(options.get("noise", True)), trust_scaling=scaling)


def _names(n, names):
    """Parameter names for the certificate: None or n strings (ValueError otherwise)."""
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(s, str) for s in names):
        raise TypeError(f"names must be a sequence of str; got {names!r}")
    names = tuple(names)
    if len(names) != n:
        raise ValueError(f"names has {len(names)} entries but x0 has {n}")
    return names


def _wrap_callback(callback):
    """scipy's rule: ``intermediate_result`` as only parameter -> OptimizeResult."""
    if callback is None:
        return None
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = set()
    if params == {"intermediate_result"}:
        return lambda row: callback(intermediate_result=OptimizeResult(x=row.x, fun=row.f))
    return lambda row: callback(np.copy(row.x))


class _Reporter:
    """Receives each :class:`~curvopt._status.Iterate` from the loop: history, allvecs,
    the ``disp`` log, and the user callback (after each iteration but the last)."""

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


def _message(status, cert):
    msg = status.message
    if cert is not None and status == Status.DEGENERATE_MINIMUM and cert.flat_parameters:
        msg += f" Flat parameters: {cert.flat_parameters}."
    if cert is not None and status == Status.INCONCLUSIVE and cert.inconclusive:
        msg += f" {cert.inconclusive}"
    return msg


def minimize(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
             constraints=(), callback=None, **options):
    """Minimize a smooth f with second-order steps; stop only on a certificate.

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
        scipy names: ``gtol`` (default 1e-5; stationary means ||grad f|| <= gtol
        max(1, |f|), certified with the gradient's error bound; ``tol`` sets it too),
        ``maxiter`` (500 n, not scipy's 200 n: an iteration here costs one gradient
        (n to 2n + 1 evaluations) and an SR1 update, and quasi-Newton iterations are
        more numerous than Newton ones: on Meyer (MGH 10) trust-exact with the exact
        Hessian needs 256 iterations, the SR1 loop ~950; ``maxfev`` is the real budget),
        ``disp``, ``initial_trust_radius`` (1.0),
        ``max_trust_radius`` (default inf, not scipy's 1000: a badly scaled problem whose
        minimizer is 1e6 away needs the radius to keep doubling; N&W Alg. 4.1 caps it only
        to keep steps finite), ``eta`` (0.15), ``return_all``. curvopt's:
        ``maxfev`` (budget of f evaluations, never exceeded), ``ctol`` (a certified minimum
        needs lam_min - lam_err > ctol, else it is reported degenerate; default 0),
        ``hessian_update`` ('sr1' default, or 'fd': FD Hessian at every accepted point),
        ``fd_step`` (absolute finite-difference step, scalar or per coordinate),
        ``vectorized``, ``parallel`` (see :class:`~curvopt.objective.Objective`),
        ``history`` (return per-iterate records in ``res.history``: x, f, norm(g),
        lam_min, radius, step kind, ``curvature`` of the cheap model at every iterate and
        the certificate's ``classification`` where one was made; see
        :class:`~curvopt._status.Iterate`), ``names`` (parameter names, passed to the
        certificate so its report and ``flat_parameters`` show them), ``noise`` (default
        True: with no user gradient, estimate the noise of f at x0 once, ECnoise, 6-18
        evaluations, so finite-difference steps fit float32 or noisy objectives),
        ``trust_scaling`` ('none' default: the Euclidean ball; 'hessian': More's (1978)
        ellipsoid from sqrt|diag H|; 'x': radius relative to max(1, |x_i|); see
        :func:`curvopt._secant.trust_scaling`).

    Returns
    -------
    OptimizeResult
        x, fun, jac, hess, nit, nfev, njev, nhev, status, success, message, plus
        ``certificate`` (:class:`~curvopt.certificate.Certificate` at x, or None when no
        certificate was made: the budget left none, the callback raised
        ``StopIteration``, or no finite stencil could be built, status 7), ``history``
        and ``allvecs`` when asked.
    """
    _check_unconstrained(bounds, constraints)
    jac = None if (isinstance(jac, str) and jac in _FD_STRINGS) or jac is False else jac
    hess = None if isinstance(hess, str) and hess in _FD_STRINGS else hess
    if hess is not None and not callable(hess):
        raise TypeError("hess must be a callable; quasi-Newton strategies are built in")
    x = np.asarray(x0)
    if x.ndim > 1:
        raise ValueError("'x0' must only have one dimension.")
    args = args if isinstance(args, tuple) else (args,)
    obj = Objective(fun, np.atleast_1d(x), args, jac=jac, hess=hess, hessp=hessp,
                    vectorized=bool(options.get("vectorized", False)),
                    parallel=bool(options.get("parallel", False)),
                    maxfev=options.get("maxfev"))
    opts = _solver_options(obj.n, options)
    keep = bool(options.get("history", False)) or bool(options.get("return_all", False))
    reporter = _Reporter(callback, bool(options.get("disp", False)), keep)
    run = solve(obj, opts, reporter)
    res = OptimizeResult(
        x=run.x, fun=run.f, jac=run.g, hess=run.H, nit=run.nit, nfev=obj.nfev,
        njev=obj.njev, nhev=obj.nhev, status=int(run.status), success=run.status.success,
        message=_message(run.status, run.certificate), certificate=run.certificate)
    if options.get("history", False):
        res.history = list(reporter.rows)
    if options.get("return_all", False):
        res.allvecs = [row.x for row in reporter.rows]
    if options.get("disp", False):
        print(res.message)
        print(f"         Current function value: {run.f:.6g}\n         Iterations: {run.nit}"
              f"\n         Function evaluations: {obj.nfev}")
    return res
