"""The objective f: validation, one evaluation interface, exact counting, budget, best point.

:class:`Objective` wraps ``fun(x, *args)`` (and the optional ``jac``, ``hess``, ``hessp``)
once, validates x0 and every output, and evaluates batches of points through one
interface, :meth:`Objective.values`, on the backend chosen at construction
(:mod:`curvopt.evaluation`: compiled loops for an ``@njit`` objective, a vectorized call,
or a plain loop). Every evaluation of f is counted in ``nfev``; a batch that would exceed
``maxfev`` is not evaluated at all (:class:`BudgetExhausted`), so ``nfev <= maxfev``
always. The best point seen is kept.

The precision of f (``f_eps``) is fixed by the first evaluation: float32 when x0 is
float32 or f returns a float32, float64 otherwise; likewise for the user's derivatives.
A Python objective always receives a fresh copy of x.
"""
from __future__ import annotations

import copy
from functools import partial

import numpy as np

from curvopt.evaluation import (JitBackend, PythonBackend, VectorizedBackend, as_batch,
                                batch_size, is_jitted)
from curvopt.parallel import PoolBackend, as_workers

__all__ = ["Objective", "BudgetExhausted", "NonFiniteError", "validate_x0"]

EPS = {np.dtype(np.float32): float(np.finfo(np.float32).eps),
       np.dtype(np.float64): float(np.finfo(np.float64).eps)}


class BudgetExhausted(RuntimeError):
    """Raised before a batch of evaluations that would exceed ``maxfev``."""


class NonFiniteError(ValueError):
    """f is not finite at a point where a finite value is required."""


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
    x = np.array(x.reshape(1) if x.ndim == 0 else x,
                 dtype=np.float32 if x.dtype == np.float32 else np.float64)
    if x.size == 0:
        raise ValueError(f"{name} is empty: it must have at least one element")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite; non-finite entries at "
                         f"{np.flatnonzero(~np.isfinite(x)).tolist()}")
    return x


def as_scalar(out, who="fun"):
    """float(out) for a real scalar or size-1 real array; ValueError naming ``who`` else."""
    if isinstance(out, float):
        return out
    if out is None:
        raise ValueError(f"{who} returned None; it must return a real scalar")
    arr = np.asarray(out)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{who} must return a real scalar; got {type(out).__name__} "
                         f"of dtype {arr.dtype}")
    if arr.size != 1:
        raise ValueError(f"{who} must return a scalar; it returned an array of shape "
                         f"{arr.shape}")
    return float(arr.reshape(()))


def _as_array(out, shape, who):
    """A user derivative as a float64 array of ``shape``; ValueError naming ``who`` else."""
    if out is None:
        raise ValueError(f"{who} returned None; expected an array of shape {shape}")
    arr = np.asarray(out.toarray() if hasattr(out, "toarray") else out)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{who} must return real numbers; got dtype {arr.dtype}")
    if arr.size != int(np.prod(shape)) or (arr.ndim > 1 and arr.shape != shape):
        raise ValueError(f"{who} returned shape {arr.shape} for x of length {shape[0]}; "
                         f"expected {shape}")
    return arr.astype(np.float64).reshape(shape), _eps_of(arr)


def _eps_of(a):
    return EPS[np.dtype(np.float32)] if a.dtype == np.float32 else EPS[np.dtype(np.float64)]


class _Pair:
    """``fun`` returning (f, g) (``jac=True``): f and g from one call, memoized by x."""

    def __init__(self, fun):
        self.fun, self.x, self.g = fun, None, None

    def __call__(self, x, *args):
        out = self.fun(x, *args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError("with jac=True, fun must return a pair (f, g); got "
                             f"{type(out).__name__}")
        self.x, self.g = np.array(x, copy=True), out[1]
        return out[0]

    def derivative(self, x, *args):
        if self.x is None or not np.array_equal(self.x, x):
            self(x, *args)
        return self.g


def _unwrap(fun):
    """(inner, first): the function inside a (f, g) memoizer -- scipy's wrapper for
    ``jac=True`` exposes it as ``fun.fun`` next to ``fun.derivative`` -- and whether it
    returns (f, g)."""
    inner = getattr(fun, "fun", None)
    if inner is not None and callable(getattr(fun, "derivative", None)):
        return inner, True
    return fun, False


class Objective:
    """Counted, validated access to f (and optional user derivatives).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``. A numba ``@njit`` function is evaluated in compiled
        loops; with ``vectorized`` it takes an (n, m) array and returns m values.
    x0 : array_like
        Starting point, validated by :func:`validate_x0`; sets n and the dtype of x.
    args : tuple
        Extra arguments passed to ``fun``, ``jac``, ``hess``, ``hessp``.
    jac, hess, hessp : callable or None
        User derivatives. ``jac=True`` means ``fun`` returns ``(f, g)``.
    vectorized : bool
        ``fun`` accepts an (n, m) array and returns m values.
    maxfev : int or None
        Budget of function evaluations.
    workers : int, callable, Executor or None
        Where batches are evaluated (:mod:`curvopt.parallel`): None or 1 serial, an int a
        process pool curvopt starts at the first parallel batch and shuts down in
        :meth:`close` (use the objective as a context manager), a map-like callable or a
        ``concurrent.futures.Executor``.
    """

    def __init__(self, fun, x0, args=(), *, jac=None, hess=None, hessp=None,
                 vectorized=False, maxfev=None, workers=None):
        if not callable(fun):
            raise TypeError(f"fun must be callable; got {type(fun).__name__}")
        self.x0 = validate_x0(x0)
        self.n, self.dtype = self.x0.shape[0], self.x0.dtype
        self.args = args if isinstance(args, tuple) else (args,)     # as scipy.optimize
        if jac is True:
            fun = _Pair(fun)
            jac = fun.derivative
        for name, d in (("jac", jac), ("hess", hess), ("hessp", hessp)):
            if d is not None and not callable(d):
                raise TypeError(f"{name} must be callable or None; got {d!r}")
        if maxfev is not None and (int(maxfev) != maxfev or maxfev < 1):
            raise ValueError(f"maxfev must be a positive integer; got {maxfev!r}")
        self.fun, self.jac, self._hess, self._hessp = fun, jac, hess, hessp
        self.vectorized = bool(vectorized)
        self.maxfev = None if maxfev is None else int(maxfev)
        self.nfev = self.njev = self.nhev = 0
        self.eps_x = EPS[self.dtype]
        self.f_eps = self.jac_eps = self.hess_eps = self.eps_x
        self._fixed = False
        self.backend = self._backend(fun)
        self.pool = None
        self.progress = None           # progress(m) before every batch of m points (disp)
        pool = as_workers(workers)
        if pool is not None:
            make = partial(serial_backend, self.fun, self.x0, self.args, self.vectorized)
            self.backend = self.pool = PoolBackend(self.backend, make, pool, fun, self.args)

    def close(self, error=False):
        """Shut down the process pool curvopt started for ``workers=<int>`` (if any);
        ``error``: stop its processes without waiting for their tasks."""
        if self.pool is not None:
            self.pool.close(error)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(error=exc_type is not None)

    def _backend(self, fun):
        if self.vectorized:
            return VectorizedBackend(self._vector)
        inner, first = _unwrap(fun)
        python = PythonBackend(self._scalar)
        if is_jitted(inner):
            return JitBackend(inner, self.args, first, python)
        return python

    # -- calls of the user's function ---------------------------------------------
    def _scalar(self, x):
        out = self.fun(x, *self.args)
        self._precision(out)
        return as_scalar(out)

    def _vector(self, X):
        out = np.asarray(self.fun(X, *self.args))
        self._precision(out)
        m = X.shape[1]
        if out.shape not in ((m,), (1, m)):
            raise ValueError(f"vectorized fun must return {m} values for an ({self.n}, {m}) "
                             f"input; got shape {out.shape}")
        return out.astype(np.float64).ravel()

    def _precision(self, out):
        """Fix f_eps at the first evaluation (float32 output -> float32 precision)."""
        if not self._fixed:
            if getattr(out, "dtype", None) == np.float32:
                self.f_eps = max(self.f_eps, EPS[np.dtype(np.float32)])
            self._fixed = True

    # -- evaluation ------------------------------------------------------------------
    def point(self, x, name="x"):
        """x as a contiguous array of the objective's dtype and shape (ValueError else)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.shape != (self.n,):
            raise ValueError(f"{name} must have shape ({self.n},); got {x.shape}")
        return x

    def _charge(self, m):
        if self.maxfev is not None and self.nfev + m > self.maxfev:
            raise BudgetExhausted(
                f"maxfev = {self.maxfev} reached ({self.nfev} used, {m} more needed)")

    def f(self, x):
        """f(x) as a float: one counted evaluation (on a copy of x)."""
        return float(self.values(self.point(x)[None, :])[0])

    def values(self, batch):
        """f at every point of a batch, in order: a :class:`~curvopt.evaluation.Changes`
        or an (m, n) array; m counted evaluations, a float64 array (m,)."""
        batch = as_batch(batch, self.n, self.dtype)
        m = batch_size(batch)
        self._charge(m)
        if m == 0:
            return np.empty(0)
        if self.progress is not None:
            self.progress(m)
        vals = self.backend(batch, self.n)
        self.nfev += m
        return vals

    def remaining(self):
        """Evaluations left in the budget (None: unlimited)."""
        return None if self.maxfev is None else self.maxfev - self.nfev

    # -- user derivatives --------------------------------------------------------------
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
        g, eps = _as_array(self.jac(self.point(x).copy(), *self.args), (self.n,),
                           "jac (the gradient)")
        self.jac_eps = max(self.f_eps, eps)
        return g

    def hess(self, x):
        """User Hessian at x (counted in nhev), or None when absent."""
        if self._hess is None:
            return None
        self.nhev += 1
        H, eps = _as_array(self._hess(self.point(x).copy(), *self.args), (self.n, self.n),
                           "hess")
        self.hess_eps = max(self.f_eps, eps)
        return H

    def hessp(self, x, v):
        """User Hessian-vector product at x (counted in nhev), or None when absent."""
        if self._hessp is None:
            return None
        self.nhev += 1
        out = self._hessp(self.point(x).copy(), np.asarray(v, dtype=self.dtype), *self.args)
        Hv, eps = _as_array(out, (self.n,), "hessp")
        self.hess_eps = max(self.f_eps, eps)
        return Hv

    def raw_hess(self, x):
        """The user's hess called on x exactly as given (for a precision probe)."""
        self.nhev += 1
        return self._hess(x, *self.args)


def serial_backend(fun, x0, args, vectorized):
    """The serial backend of ``Objective(fun, x0, args, vectorized=vectorized)``: what a
    worker evaluates its chunks with (:mod:`curvopt.parallel`). An (f, g) memoizer
    (``jac=True``) is copied, so that threads never share (and mix up) its memo."""
    if callable(getattr(fun, "derivative", None)):
        fun = copy.copy(fun)
    return Objective(fun, x0, args, vectorized=vectorized).backend
