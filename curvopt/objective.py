"""The objective f: validation, evaluation paths, exact counting, budget, best point.

Three evaluation paths, chosen automatically:

* ``jit``: ``fun`` (or the function inside scipy's ``MemoizeJac``, used for ``jac=True``)
  is a numba dispatcher.  Batches of points are evaluated in compiled loops that call
  ``fun(x, *args)`` with no Python call per evaluation (:mod:`curvopt._stencils`);
* ``vectorized``: ``fun(X, *args)`` takes an (n, m) array of m points and returns m values;
* ``python``: any other callable, evaluated in a plain loop.

``nfev`` counts every evaluation of f in every path.  When an evaluation would exceed
``maxfev`` it is not made and :class:`BudgetExhausted` is raised.
"""
from __future__ import annotations

import numpy as np
from numba.core.errors import TypingError
from numba.core.registry import CPUDispatcher

from curvopt import _stencils

__all__ = ["Objective", "BudgetExhausted", "NonFiniteError", "validate_x0", "is_jit_function"]


class BudgetExhausted(RuntimeError):
    """Raised before an evaluation that would exceed ``maxfev``."""


class NonFiniteError(ValueError):
    """f is not finite at a point where a finite value is required."""


def is_jit_function(fun):
    """True when ``fun`` is a numba CPU dispatcher (an ``@njit`` function; under
    NUMBA_DISABLE_JIT=1 ``@njit`` returns the plain function and this is False)."""
    return isinstance(fun, CPUDispatcher)


def _unwrap_memoize(fun):
    """(inner, first): the function inside scipy's MemoizeJac, and whether it returns (f, g)."""
    inner = getattr(fun, "fun", None)
    if inner is not None and callable(getattr(fun, "derivative", None)):
        return inner, True
    return fun, False


def validate_x0(x0, name="x0"):
    """1-D float copy of x0 (float32 stays float32, ints and bools become float64).

    ``name`` is how error messages call the point ("x0", "the point x", ...).

    Raises
    ------
    ValueError
        For complex, object or string dtypes, ndim > 1, empty or non-finite x0.
    """
    x = np.asarray(x0)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real numbers; got dtype {x.dtype}")
    if x.ndim > 1:
        raise ValueError(f"{name} must be 1-D; got shape {x.shape}")
    x = np.atleast_1d(x)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    x = np.array(x, dtype=dtype)
    if x.size == 0:
        raise ValueError(f"{name} is empty: it must have at least one element")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite; non-finite entries at "
                         f"{np.flatnonzero(~np.isfinite(x)).tolist()}")
    return x


def _as_scalar(out):
    """float(out) for a scalar or size-1 real output; ValueError otherwise."""
    if isinstance(out, float):
        return out
    arr = np.asarray(out)
    if arr.size != 1:
        raise ValueError(f"fun must return a scalar; it returned an array of shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"fun must return a real scalar; got dtype {arr.dtype}")
    return float(arr.reshape(()))


class Objective:
    """Counted, validated access to f (and optional user derivatives).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``.  A numba dispatcher selects the compiled path.
    x0 : array_like
        Starting point, validated by :func:`validate_x0`.
    args : tuple
        Extra arguments passed to ``fun``, ``jac``, ``hess``, ``hessp``.
    jac, hess, hessp : callable or None
        User derivatives.  ``jac=True`` means ``fun`` returns ``(f, g)``.
    vectorized : bool
        ``fun`` accepts an (n, m) array and returns m values.
    parallel : bool
        Use numba threads (``prange``) for the Hessian stencil in the jit path.
    maxfev : int or None
        Budget of function evaluations.
    """

    def __init__(self, fun, x0, args=(), *, jac=None, hess=None, hessp=None,
                 vectorized=False, parallel=False, maxfev=None):
        if not callable(fun):
            raise TypeError(f"fun must be callable; got {type(fun).__name__}")
        self.x0 = validate_x0(x0)
        self.n = self.x0.shape[0]
        self.dtype = self.x0.dtype
        self.args = args if isinstance(args, tuple) else (args,)   # as scipy.optimize
        if jac is True:
            fun, jac = _memoize(fun)
        for name, d in (("jac", jac), ("hess", hess), ("hessp", hessp)):
            if d is not None and not callable(d):
                raise TypeError(f"{name} must be callable or None; got {d!r}")
        self.fun, self.jac, self._hess, self._hessp = fun, jac, hess, hessp
        inner, first = _unwrap_memoize(fun)
        self.vectorized = bool(vectorized)
        self.is_jit = is_jit_function(inner) and not self.vectorized
        self._jit_fun, self._jit_first = inner, first
        self.parallel = bool(parallel)
        if maxfev is not None and int(maxfev) < 1:
            raise ValueError(f"maxfev must be a positive integer; got {maxfev}")
        self.maxfev = None if maxfev is None else int(maxfev)
        self.nfev = self.njev = self.nhev = 0
        self.best_x, self.best_f = None, np.inf
        self.f_eps = _EPS[self.dtype]
        self.noise = None  # NoiseEstimate, set by curvopt.noise.noise_level
        self.jac_eps = self.hess_eps = self.f_eps   # unit roundoff of the last jac / hess output
        self._kernels = None

    # -- bookkeeping ---------------------------------------------------------------
    def _charge(self, m):
        if self.maxfev is not None and self.nfev + m > self.maxfev:
            raise BudgetExhausted(
                f"maxfev = {self.maxfev} reached ({self.nfev} used, {m} more needed)")

    def _note_dtype(self, out):
        if getattr(out, "dtype", None) == np.float32:
            self.f_eps = max(self.f_eps, float(np.finfo(np.float32).eps))

    def _update_best(self, fx, x):
        if fx < self.best_f:  # False for NaN
            self.best_f, self.best_x = fx, np.array(x, dtype=self.dtype)

    def _x(self, x):
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.shape != (self.n,):
            raise ValueError(f"x must have shape ({self.n},); got {x.shape}")
        return x

    # -- evaluation ----------------------------------------------------------------
    def f(self, x):
        """f(x) as a float: one counted evaluation."""
        x = self._x(x)
        self._charge(1)
        if self.vectorized:
            return float(self._call_vectorized(x[None, :])[0])
        out = self.fun(x, *self.args)
        self.nfev += 1
        self._note_dtype(out)
        fx = _as_scalar(out)
        self._update_best(fx, x)
        return fx

    def _call_vectorized(self, X):
        out = np.asarray(self.fun(np.ascontiguousarray(X.T), *self.args))
        self.nfev += X.shape[0]
        self._note_dtype(out)
        if out.shape not in ((X.shape[0],), (1, X.shape[0])):
            raise ValueError(f"vectorized fun must return {X.shape[0]} values for an "
                             f"({self.n}, {X.shape[0]}) input; got shape {out.shape}")
        return out.astype(np.float64).ravel()

    def f_many(self, X):
        """f at each row of X (shape (m, n)): m counted evaluations, array (m,)."""
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n:
            raise ValueError(f"X must have shape (m, {self.n}); got {X.shape}")
        self._charge(X.shape[0])
        if X.shape[0] == 0:
            return np.empty(0)
        vals = self._jit("f_many", np.ascontiguousarray(X)) if self.is_jit else None
        if self.vectorized:
            vals = self._call_vectorized(X)
        elif vals is not None:
            self.nfev += X.shape[0]
        else:
            vals = np.empty(X.shape[0])
            for k in range(X.shape[0]):
                vals[k] = self.f(X[k])
            return vals
        k = int(vals.argmin())                       # the first NaN, if there is one
        if vals[k] != vals[k]:
            k = int(np.argmin(np.where(np.isnan(vals), np.inf, vals)))
        self._update_best(vals[k], X[k])
        return vals

    @property
    def kernels(self):
        """Compiled loops specialized to this objective (built on first use)."""
        if self._kernels is None:
            fc = (not self._jit_first and self.args == () and self.dtype == np.float64
                  and type(getattr(self._jit_fun, "_cache", None)).__name__ != "NullCache")
            self._kernels = _kernel_cache(self._jit_fun, self._jit_first, fc)
        return self._kernels

    def axis_values(self, x, xp, xm):
        """(fp, fm) with fp[i] = f(x with x_i -> xp[i]), fm[i] likewise: 2n evaluations."""
        x = self._x(x)
        self._charge(2 * self.n)
        X = np.repeat(x[None, :], 2 * self.n, axis=0)
        idx = np.arange(self.n)
        X[2 * idx, idx] = xp
        X[2 * idx + 1, idx] = xm
        vals = self.f_many(X)
        return vals[0::2], vals[1::2]

    def cross_values(self, x, xp, xm, chunk=4096):
        """F (4, n, n): F[s, i, j] = f(x with x_i, x_j -> corner s) for i < j.

        Corners s = 0, 1, 2, 3 are (xp_i, xp_j), (xp_i, xm_j), (xm_i, xp_j), (xm_i, xm_j).
        2n(n-1) evaluations.
        """
        x = self._x(x)
        n = self.n
        self._charge(2 * n * (n - 1))
        F = np.zeros((4, n, n))
        I, J = _stencils.pair_index(n)
        for c in range(0, I.size, chunk):
            i, j = I[c:c + chunk], J[c:c + chunk]
            for s, (ci, cj) in enumerate(((xp, xp), (xp, xm), (xm, xp), (xm, xm))):
                X = np.repeat(x[None, :], i.size, axis=0)
                X[np.arange(i.size), i] = ci[i]
                X[np.arange(i.size), j] = cj[j]
                F[s, i, j] = self.f_many(X)
        return F

    def _jit(self, name, *a):
        """Run a compiled loop, or None after switching to the Python path for good when
        numba cannot compile it (e.g. an @njit f that returns an array)."""
        k = self.kernels
        if name == "stencil" and self.parallel:
            if "parallel" not in k:
                k["parallel"] = k["stencil_parallel"]()
            name = "parallel"
        try:
            return k[name](*a, self.args)
        except TypingError:
            self.is_jit = False
            return None

    def hess_values(self, x, xp, xm, xp2, xm2, f0):
        """Values of the 2n^2-point Hessian stencil and their summary.

        Returns ``(fp2, fm2, F, fmax, nbad)``: axis values at xp2/xm2, cross values
        (see :meth:`cross_values`), max |f| and the number of non-finite values.
        """
        x = self._x(x)
        self._charge(2 * self.n * self.n)
        out = self._jit("stencil", x, xp, xm, xp2, xm2) if self.is_jit else None
        if out is not None:
            fp2, fm2, F = out
            self.nfev += 2 * self.n * self.n
        else:
            fp2, fm2 = self.axis_values(x, xp2, xm2)
            F = self.cross_values(x, xp, xm)
        fmax, nbad, best, kind, i, j = _stencils.summarize(float(f0), fp2, fm2, F)
        if kind >= 0 and best < self.best_f:
            y = np.array(x, dtype=self.dtype)
            if kind < 2:
                y[i] = (xp2 if kind == 0 else xm2)[i]
            else:
                y[i] = (xp if kind < 4 else xm)[i]
                y[j] = (xp if kind in (2, 4) else xm)[j]
            self._update_best(float(best), y)
        return fp2, fm2, F, float(fmax), int(nbad)

    def hess_fused(self, x, f0, c, hv):
        """The whole Hessian stencil in ONE compiled call (:func:`curvopt._stencils._fused`):
        target steps ``hv`` (or c max(1, |x_i|) when hv is empty), representable steps at
        h and ~2h, the 2n^2 values, H, g and their summary.

        Returns ``(H, buf)`` as the kernel does (views: :func:`curvopt._stencils.fused_views`),
        or None when this objective has no serial compiled stencil (then use
        :meth:`hess_values`); nothing is evaluated when a step rounds to zero (None too).
        """
        if not self.is_jit or self.parallel:
            return None
        self._charge(2 * self.n * self.n)
        try:
            out = self.kernels["fused"](x, c, hv, f0, self.args)
        except TypingError:
            self.is_jit = False
            return None
        if out is None or out[1][0] == 0.0:
            return None
        self.nfev += 2 * self.n * self.n
        buf = out[1]
        if buf[4] >= 0.0 and buf[3] < self.best_f:
            stats, _, aux, _ = _stencils.fused_views(buf, self.n)
            self._update_best(float(stats[3]), _best_point(x, aux, stats, self.dtype))
        return out

    # -- user derivatives ----------------------------------------------------------
    @property
    def has_grad(self):
        return self.jac is not None

    @property
    def has_hess(self):
        return self._hess is not None

    @property
    def has_hessp(self):
        return self._hessp is not None

    def grad(self, x):
        """User gradient at x (counted in njev), or None when absent."""
        if self.jac is None:
            return None
        self.njev += 1
        out = np.asarray(self.jac(self._x(x), *self.args))
        self.jac_eps = max(self.f_eps, _eps_of(out))
        return out.astype(np.float64).reshape(self.n)

    def hess(self, x):
        """User Hessian at x (counted in nhev), or None when absent."""
        if self._hess is None:
            return None
        self.nhev += 1
        H = self._hess(self._x(x), *self.args)
        H = np.asarray(H.toarray() if hasattr(H, "toarray") else H)
        self.hess_eps = max(self.f_eps, _eps_of(H))
        return H.astype(np.float64).reshape(self.n, self.n)

    def hessp(self, x, v):
        """User Hessian-vector product at x (counted in nhev), or None when absent."""
        if self._hessp is None:
            return None
        self.nhev += 1
        out = np.asarray(self._hessp(self._x(x), np.asarray(v, dtype=self.dtype), *self.args))
        self.hess_eps = max(self.f_eps, _eps_of(out))
        return out.astype(np.float64).reshape(self.n)


def _best_point(x, aux, stats, dtype):
    """The stencil point where ``summarize`` found the smallest value (kind >= 0)."""
    kind, i, j = int(stats[4]), int(stats[5]), int(stats[6])
    y = np.array(x, dtype=dtype)
    if kind < 2:
        y[i] = aux[4 if kind == 0 else 5, i]
    else:
        y[i] = aux[2 if kind < 4 else 3, i]
        y[j] = aux[2 if kind in (2, 4) else 3, j]
    return y


def _eps_of(a):
    """Machine epsilon of a floating array's dtype (float64's for other kinds)."""
    return float(np.finfo(a.dtype).eps) if a.dtype.kind == "f" else float(np.finfo(np.float64).eps)


_KERNELS = {}
_EPS = {np.dtype(t): float(np.finfo(t).eps) for t in (np.float32, np.float64)}


def _kernel_cache(fun, first, fc=False):
    """One set of compiled loops per (objective, convention), kept for the process.

    ``fc``: the cacheable first-class-function loops (:func:`curvopt._stencils.make_fc_kernels`)
    instead of closures over ``fun``."""
    key = (id(fun), first, fc)
    hit = _KERNELS.get(key)
    if hit is None or hit[0] is not fun:
        make = _stencils.make_fc_kernels if fc else (lambda f: _stencils.make_jit_kernels(f, first))
        hit = (fun, make(fun))
        _KERNELS[key] = hit
    return hit[1]


def _memoize(fun):
    """(f, jac) from a function returning (f, g) (jac=True), sharing one evaluation."""
    from scipy.optimize._optimize import MemoizeJac
    m = MemoizeJac(fun)
    return m, m.derivative
