"""Options of :func:`curvopt.minimize` and :func:`curvopt.check`: one frozen record.

Every option is validated up front, before any evaluation of f, with a message that
names it and the value it got. Unknown options give scipy's ``OptimizeWarning`` (as
scipy's own methods do), pointing at the caller's line.

Defaults and where they come from:

==========================  ================  ==============================================
option                      default           source / reason
==========================  ================  ==============================================
gtol                        None              scipy's absolute ``||g|| <= gtol`` is optional:
                                              by default stationarity is the scale-free rule
                                              of :mod:`curvopt.certificate`
maxiter, maxfev, maxtime    None              exact limits when given; by default the run
                                              ends on a certificate, a probe, or the
                                              progress rule (``stall``)
stall                       None -> 20 n+100  iterations without a decrease of f beyond its
                                              resolution that end a run (STALLED)
initial_trust_radius        1.0               scipy's trust-region methods
max_trust_radius            inf               N&W Alg. 4.1 caps delta only to keep steps
                                              finite; badly scaled problems need ~1e6
eta                         0.15              scipy (N&W: eta in [0, 1/4))
ctol                        0.0               a certified minimum needs lam_min - lam_err > ctol
hessian_update              "sr1"             "sr1" (N&W eq. 6.24) or "fd" (FD every step)
fd_step                     None              absolute FD step of H (scalar or per coordinate)
noise                       True              True: ECnoise at x0 (More & Wild 2011); False:
                                              rounding level; a float: known noise of f
trust_scaling               "auto"            "auto" (the ball; More's ellipsoid after a
                                              stall short of stationarity), "none",
                                              "hessian" (More 1978) or "x"
names                       None              parameter names for the certificate
vectorized                  False             fun takes an (n, m) array of points
workers                     None              serial; an int (process pool, -1: all cores),
                                              a map ``workers(func, iterable)`` or an
                                              Executor (:mod:`curvopt.parallel`)
subproblem                  "auto"            "eigen" (dense H, eigh), "krylov" (products
                                              only: :mod:`curvopt.newton_krylov`); "auto":
                                              krylov above n = 64 or with hess_sparsity
hess_sparsity               None              pattern of H (scipy.sparse or bool array, as
                                              scipy's ``jac_sparsity``): a sparse FD H
                                              from 4 values per nonzero (Coleman & More)
disp, return_all, history   False             scipy's log / all iterates / per-iterate records
==========================  ================  ==============================================
"""
from __future__ import annotations

import inspect
import numbers
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeWarning

__all__ = ["Options", "parse_options", "warn_at_caller", "check_workers",
           "deprecated_parallel"]


@dataclass(frozen=True)
class Options:
    """Validated options (see the module docstring for defaults and sources)."""

    gtol: float | None = None
    maxiter: int | None = None
    maxfev: int | None = None
    maxtime: float | None = None
    stall: int | None = None
    initial_trust_radius: float = 1.0
    max_trust_radius: float = float("inf")
    eta: float = 0.15
    ctol: float = 0.0
    hessian_update: str = "sr1"
    fd_step: np.ndarray | None = None
    noise: object = True
    trust_scaling: str = "auto"
    names: tuple | None = None
    vectorized: bool = False
    workers: object = None
    subproblem: str = "auto"
    hess_sparsity: object = None
    disp: bool = False
    return_all: bool = False
    history: bool = False

    def stall_iterations(self, n):
        """Iterations without progress beyond the resolution of f that end a run."""
        return 20 * n + 100 if self.stall is None else self.stall


_NAMES = {f.name for f in fields(Options)}


def warn_at_caller(message, category):
    """``warnings.warn`` pointing at the first frame outside curvopt and scipy.optimize."""
    level, frame = 2, inspect.currentframe().f_back
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("curvopt", "scipy.optimize")):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _positive(name, v, integer=False, allow_inf=False):
    if v is None:
        return None
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0
    ok = ok and (np.isfinite(v) or allow_inf) and (not integer or float(v).is_integer())
    if not ok:
        kind = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {kind}; got {v!r}")
    return int(v) if integer else float(v)


def _choice(name, v, allowed):
    if v not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {v!r}")
    return v


def _fd_step(v, n):
    if v is None:
        return None
    h = np.asarray(v, dtype=np.float64)
    if h.ndim > 1 or (h.ndim == 1 and h.shape[0] != n):
        raise ValueError(f"fd_step must be a scalar or have length {n} (the length of x0); "
                         f"got shape {h.shape}")
    if not (np.all(np.isfinite(h)) and np.all(h > 0)):
        raise ValueError(f"fd_step must be positive and finite; got {v!r}")
    return np.broadcast_to(h, (n,)).copy()


def _noise(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Real) and np.isfinite(v) and v >= 0:
        return float(v)
    raise ValueError(f"noise must be True, False or a finite number >= 0 (the noise level "
                     f"of f); got {v!r}")


def _names(v, n):
    if v is None:
        return None
    if isinstance(v, str) or not all(isinstance(s, str) for s in v):
        raise TypeError(f"names must be a sequence of str; got {v!r}")
    v = tuple(v)
    if len(v) != n:
        raise ValueError(f"names has {len(v)} entries but x0 has {n}")
    return v


def _sparsity(v, n):
    """``hess_sparsity``: None, or an (n, n) scipy.sparse matrix or numeric/boolean array
    (its symmetric pattern is formed where it is used, :func:`curvopt.coloring.
    hess_pattern`)."""
    if v is None:
        return None
    shape = v.shape if sp.issparse(v) else np.shape(v)
    if not sp.issparse(v) and np.asarray(v).dtype.kind not in "biuf":
        raise TypeError(f"hess_sparsity must be a scipy.sparse matrix or a boolean/0-1 "
                        f"array; got {type(v).__name__}")
    if tuple(shape) != (n, n):
        raise ValueError(f"hess_sparsity must have shape ({n}, {n}); got {tuple(shape)}")
    return v


def check_workers(v):
    """``workers``: None, an int (-1 for all cores, or >= 1), a map-like callable
    ``workers(func, iterable)`` or a ``concurrent.futures.Executor`` (ints returned as int).
    TypeError / ValueError naming ``workers`` otherwise."""
    kinds = ("an int (processes; -1 for all cores), a map-like callable workers(func, "
             "iterable) or a concurrent.futures.Executor")
    if v is None or v is map or isinstance(v, Executor):
        return v
    if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
        if v == -1 or v >= 1:
            return int(v)
        raise ValueError(f"workers must be -1 (all cores) or a positive number of "
                         f"processes; got {v!r}")
    if isinstance(v, type):
        raise TypeError(f"workers must be {kinds}; got the class {v.__name__} (pass an "
                        f"instance, e.g. {v.__name__}(4), or its .map)")
    if callable(v):
        return v
    hint = (" (pass its .map; for a dask Client pass client.get_executor())"
            if callable(getattr(v, "map", None)) else "")
    raise TypeError(f"workers must be {kinds}; got {type(v).__name__} {v!r}{hint}")


def deprecated_parallel(parallel, workers):
    """``workers`` after the removed ``parallel`` flag (a DeprecationWarning when given):
    ``parallel=True`` without ``workers`` means ``workers=-1``."""
    if parallel is None:
        return workers
    warn_at_caller("parallel= is deprecated: use workers= (an int number of processes, "
                   "-1 for all cores, a map or an Executor); parallel=True now means "
                   "workers=-1", DeprecationWarning)
    return -1 if parallel and workers is None else workers


def parse_options(n, options, *, ignore=()):
    """An :class:`Options` from a dict (scipy's ``tol`` sets ``gtol``); ValueError or
    TypeError naming the option for a bad value, OptimizeWarning for unknown names
    (``ignore``: names the caller handles itself)."""
    options = dict(options)
    tol = options.pop("tol", None)
    parallel = options.pop("parallel", None)
    if options.get("gtol") is None and tol is not None:
        options["gtol"] = tol
    unknown = sorted(set(options) - _NAMES - set(ignore))
    if unknown:
        warn_at_caller(f"Unknown solver options: {', '.join(unknown)}", OptimizeWarning)
    get = options.get
    eta = get("eta", 0.15)
    if not (isinstance(eta, numbers.Real) and 0 <= eta < 0.25):
        raise ValueError(f"eta must be in [0, 1/4); got {eta!r}")
    delta0 = _positive("initial_trust_radius", get("initial_trust_radius", 1.0))
    delta_max = _positive("max_trust_radius", get("max_trust_radius", np.inf), allow_inf=True)
    if delta0 > delta_max:
        raise ValueError(f"initial_trust_radius ({delta0}) must not exceed "
                         f"max_trust_radius ({delta_max})")
    ctol = get("ctol", 0.0)
    if not (isinstance(ctol, numbers.Real) and np.isfinite(ctol) and ctol >= 0):
        raise ValueError(f"ctol must be a finite number >= 0; got {ctol!r}")
    maxiter = get("maxiter")
    if maxiter is not None and not (isinstance(maxiter, numbers.Integral) and maxiter >= 0):
        raise ValueError(f"maxiter must be an integer >= 0; got {maxiter!r}")
    return Options(
        gtol=_positive("gtol", get("gtol")), maxiter=maxiter,
        maxfev=_positive("maxfev", get("maxfev"), integer=True),
        maxtime=_positive("maxtime", get("maxtime")),
        stall=_positive("stall", get("stall"), integer=True),
        initial_trust_radius=delta0, max_trust_radius=delta_max, eta=float(eta),
        ctol=float(ctol),
        hessian_update=_choice("hessian_update", get("hessian_update", "sr1"), ("sr1", "fd")),
        fd_step=_fd_step(get("fd_step"), n), noise=_noise(get("noise", True)),
        trust_scaling=_choice("trust_scaling", get("trust_scaling", "auto"),
                              ("auto", "none", "hessian", "x")),
        names=_names(get("names"), n), vectorized=bool(get("vectorized", False)),
        workers=deprecated_parallel(parallel, check_workers(get("workers"))),
        subproblem=_choice("subproblem", get("subproblem", "auto"),
                           ("auto", "eigen", "krylov")),
        hess_sparsity=_sparsity(get("hess_sparsity"), n),
        disp=bool(get("disp", False)), return_all=bool(get("return_all", False)),
        history=bool(get("history", False)))
