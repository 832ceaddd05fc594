"""How a batch of points is evaluated: stencil descriptions and evaluation backends.

Every finite-difference stencil is a batch of independent evaluations of f. A batch is
described, not materialised, where that saves memory:

* :class:`PairBatch` -- the points of a central-difference stencil, described by what
  changes: x with one coordinate moved (axis points), then x with two coordinates moved to
  the four corners of each pair (i, j). It takes the base point, four length-n vectors of
  moved coordinates and the pairs -- O(n + pairs) numbers for the 2n^2 points of a dense
  Hessian stencil, which a compiled loop expands as it goes;
* :class:`Changes` -- any points that differ from x in one or two coordinates (point k is
  x with ``x[i[k]] = a[k]`` and, where ``j[k] >= 0``, ``x[j[k]] = b[k]``): 4 numbers per
  point instead of n. What a :class:`PairBatch` becomes where it must be cut into parts
  (chunks of a Python or vectorized objective, tasks of parallel workers);
* an (m, n) array of full points (lines, probes, trial points).

A backend evaluates a batch and returns the m values in order (float64):

* :class:`JitBackend` -- ``fun`` is a numba ``@njit`` function: compiled loops per
  objective (closures over the dispatcher, compiled on first use and kept while the
  dispatcher lives). Two are stencil loops, one for :class:`PairBatch` and one for
  :class:`Changes`: each writes the one or two coordinates of a point into a scratch copy
  of x, calls f, and resets them. The third takes full points;
* :class:`PythonBackend` -- any callable, one call per point on a fresh copy of the point
  (as scipy does, so an objective that modifies its argument cannot corrupt the iterate);
* :class:`VectorizedBackend` -- ``fun(X)`` takes an (n, m) array of m points and returns m
  values; batches are materialised in chunks of at most ``CHUNK_ELEMENTS`` numbers.

Counting, the budget and the best point live one layer up, in :mod:`curvopt.objective`.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

import numpy as np
from numba import njit
from numba import errors as numba_errors
from numba.extending import is_jitted as _numba_is_jitted

__all__ = ["PairBatch", "Changes", "materialise", "as_batch", "batch_size", "PythonBackend",
           "VectorizedBackend", "JitBackend", "is_jitted", "CHUNK_ELEMENTS", "LOG"]

#: logger "curvopt.evaluation": an INFO record when the loops of an @njit objective are
#: compiled (never stdout: doctest output does not depend on test order)
LOG = logging.getLogger(__name__)

#: largest number of floats materialised at once for a Python or vectorized objective
CHUNK_ELEMENTS = 1 << 20


@dataclass(frozen=True)
class Changes:
    """Points that differ from ``x`` in one or two coordinates.

    Point k is x with ``x[i[k]] = a[k]`` and, where ``j[k] >= 0``, also ``x[j[k]] = b[k]``.
    ``a`` and ``b`` have x's dtype, so every point is exactly representable.
    """

    x: np.ndarray
    i: np.ndarray
    a: np.ndarray
    j: np.ndarray
    b: np.ndarray

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def point(self, k: int) -> np.ndarray:
        """Point k as a new array."""
        y = self.x.copy()
        y[self.i[k]] = self.a[k]
        if self.j[k] >= 0:
            y[self.j[k]] = self.b[k]
        return y

    def columns(self, start: int, stop: int) -> np.ndarray:
        """Points start..stop-1 as the columns of a C-contiguous (n, m) array (the layout a
        vectorized ``fun`` takes: written once, no transposed copy)."""
        m = stop - start
        X = np.repeat(self.x[:, None], m, axis=1)
        r = np.arange(m)
        X[self.i[start:stop], r] = self.a[start:stop]
        j, b = self.j[start:stop], self.b[start:stop]
        two = j >= 0
        X[j[two], r[two]] = b[two]
        return X

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Points start..stop-1 as an (m, n) array (a transposed view of :meth:`columns`)."""
        return self.columns(start, stop).T


@dataclass(frozen=True)
class PairBatch:
    """The points of a central-difference stencil on coordinates and pairs of coordinates.

    In order: x with ``x[i] = up[i]`` for each i (none when ``up`` is empty), then x with
    ``x[i] = um[i]``, then for each pair k, with (i, j) = (I[k], J[k]), the corners
    (xp_i, xp_j), (xp_i, xm_j), (xm_i, xp_j), (xm_i, xm_j). ``up``, ``um``, ``xp``,
    ``xm`` have x's dtype and length n (0 for a part that is absent); I, J are int64.
    """

    x: np.ndarray
    up: np.ndarray
    um: np.ndarray
    xp: np.ndarray
    xm: np.ndarray
    I: np.ndarray
    J: np.ndarray

    def __len__(self) -> int:
        return int(self.up.shape[0] + self.um.shape[0] + 4 * self.I.shape[0])

    def changes(self) -> Changes:
        """The same points, in order, as :class:`Changes` (4 numbers per point)."""
        x, I, J = self.x, self.I, self.J
        axis_i = np.concatenate([np.arange(self.up.shape[0]), np.arange(self.um.shape[0])])
        na = axis_i.shape[0]
        i = np.concatenate([axis_i, np.repeat(I, 4)]).astype(np.int64)
        j = np.concatenate([np.full(na, -1), np.repeat(J, 4)]).astype(np.int64)
        a = np.empty(i.shape[0], x.dtype)
        b = np.empty(i.shape[0], x.dtype)
        a[:na], b[:na] = np.concatenate([self.up, self.um]), 0
        for c, (ai, bj) in enumerate(((self.xp, self.xp), (self.xp, self.xm),
                                      (self.xm, self.xp), (self.xm, self.xm))):
            a[na + c::4], b[na + c::4] = ai[I], bj[J]
        return Changes(x, i, a, j, b)


def materialise(batch):
    """A :class:`PairBatch` as :class:`Changes` (other batches as they are): the form that
    can be cut into parts."""
    return batch.changes() if isinstance(batch, PairBatch) else batch


_JIT_TYPES = {}


def is_jitted(fun) -> bool:
    """Whether ``fun`` is a numba dispatcher (``numba.extending.is_jitted``, cached per
    type: that is all it depends on, and it imports on every call)."""
    kind = type(fun)
    jitted = _JIT_TYPES.get(kind)
    if jitted is None:
        jitted = _JIT_TYPES[kind] = _numba_is_jitted(fun)
    return jitted


def as_batch(batch, n: int, dtype):
    """Validate a batch: a :class:`PairBatch` or :class:`Changes` of length-n points, or an
    (m, n) array."""
    if isinstance(batch, (PairBatch, Changes)):
        return batch
    if (type(batch) is np.ndarray and batch.dtype == dtype and batch.ndim == 2
            and batch.shape[1] == n and batch.flags.c_contiguous):
        return batch                           # already what the checks below return
    X = np.asarray(batch, dtype=dtype)
    if X.ndim != 2 or X.shape[1] != n:
        raise ValueError(f"points must have shape (m, {n}); got {X.shape}")
    return np.ascontiguousarray(X)


def batch_size(batch) -> int:
    """Number of points in a batch."""
    return len(batch) if isinstance(batch, (PairBatch, Changes)) else int(batch.shape[0])


def chunks(batch, n: int):
    """(start, stop) ranges of at most CHUNK_ELEMENTS numbers."""
    m = batch_size(batch)
    step = max(1, CHUNK_ELEMENTS // max(n, 1))
    return [(s, min(s + step, m)) for s in range(0, m, step)]


def rows(batch, start: int, stop: int) -> np.ndarray:
    """Points start..stop-1 of a batch as an (m, n) array (a view for arrays)."""
    return batch.rows(start, stop) if isinstance(batch, Changes) else batch[start:stop]


def columns(batch, start: int, stop: int) -> np.ndarray:
    """Points start..stop-1 of a batch as the columns of a C-contiguous (n, m) array."""
    if isinstance(batch, Changes):
        return batch.columns(start, stop)
    return np.ascontiguousarray(batch[start:stop].T)


class _ChunkedBackend:
    """A batch evaluated chunk by chunk (at most CHUNK_ELEMENTS numbers materialised at
    once): ``chunk(batch, start, stop)`` returns the values of points start..stop-1."""

    def __call__(self, batch, n):
        batch = materialise(batch)
        out = np.empty(batch_size(batch))
        for start, stop in chunks(batch, n):
            out[start:stop] = self.chunk(batch, start, stop)
        return out


class PythonBackend(_ChunkedBackend):
    """One call of ``scalar(x)`` per point, each on a fresh copy of the point."""

    name = "python"

    def __init__(self, scalar):
        self.scalar = scalar

    def chunk(self, batch, start, stop):
        X = rows(batch, start, stop)
        out = np.empty(X.shape[0])
        for k in range(X.shape[0]):        # a loop, not a generator: StopIteration raised
            out[k] = self.scalar(X[k].copy())   # by f must reach the user as itself
        return out


class VectorizedBackend(_ChunkedBackend):
    """``vector(X)`` on (n, m) chunks of the batch; ``vector`` validates the output."""

    name = "vectorized"

    def __init__(self, vector):
        self.vector = vector

    def chunk(self, batch, start, stop):
        return self.vector(columns(batch, start, stop))


class JitBackend:
    """Compiled loops over an ``@njit`` objective (see :func:`_loops`).

    ``first``: ``fun`` returns ``(f, g)`` (scipy's ``jac=True``) and the loops take f.
    When numba cannot compile the loops around ``fun`` (it returns an array, say), the
    first batch says so and every batch then goes through ``fallback`` (a Python backend);
    that choice is made once, recorded in :attr:`name`.
    """

    def __init__(self, fun, args, first, fallback):
        self.fun, self.args, self.first, self.fallback = fun, args, first, fallback
        self.name = "jit"
        self.loops = None

    def __call__(self, batch, n):
        if self.name != "jit":
            return self.fallback(batch, n)
        if self.loops is None:                # looked up once: a WeakKeyDictionary
            self.loops = _loops(self.fun, self.first)
        loops = self.loops
        try:
            if isinstance(batch, PairBatch):
                out = loops["pairs"](batch.x, batch.up, batch.um, batch.xp, batch.xm,
                                     batch.I, batch.J, self.args)
            elif isinstance(batch, Changes):
                out = loops["changes"](batch.x, batch.i, batch.a, batch.j, batch.b, self.args)
            else:
                out = loops["points"](batch, self.args)
        except numba_errors.TypingError:
            self.name = "python (numba could not compile a loop around fun)"
            return self.fallback(batch, n)
        return out


_LOOPS = weakref.WeakKeyDictionary()


def _loops(fun, first):
    """The compiled loops of ``fun``, built once per dispatcher and convention."""
    per_fun = _LOOPS.get(fun)              # not setdefault: it makes a weakref with a
    if per_fun is None:                    # callback on every call
        per_fun = _LOOPS[fun] = {}
    if first not in per_fun:
        LOG.info("compiling the evaluation loops around %s (once per process; about a "
                 "second)", getattr(fun, "__name__", "fun"))
        per_fun[first] = _make_loops(fun, first)
    return per_fun[first]


def _make_loops(fun, first):
    """Closures over the dispatcher (a closure call costs ~1 us from Python, a dispatcher
    passed as an argument is re-typed on every call); compiled on first call."""
    if first:
        @njit
        def f1(x, args):  # pragma: no cover - jit
            return fun(x, *args)[0]
    else:
        @njit
        def f1(x, args):  # pragma: no cover - jit
            return fun(x, *args)

    @njit
    def changes(x, i, a, j, b, args):  # pragma: no cover - jit
        out = np.empty(i.shape[0])
        w = x.copy()
        for k in range(i.shape[0]):
            w[i[k]] = a[k]
            if j[k] >= 0:
                w[j[k]] = b[k]
            out[k] = f1(w, args)
            w[i[k]] = x[i[k]]
            if j[k] >= 0:
                w[j[k]] = x[j[k]]
        return out

    @njit
    def pairs(x, up, um, xp, xm, I, J, args):  # pragma: no cover - jit
        nu, nm = up.shape[0], um.shape[0]
        out = np.empty(nu + nm + 4 * I.shape[0])
        w = x.copy()
        for i in range(nu):
            w[i] = up[i]
            out[i] = f1(w, args)
            w[i] = x[i]
        for i in range(nm):
            w[i] = um[i]
            out[nu + i] = f1(w, args)
            w[i] = x[i]
        for k in range(I.shape[0]):
            i, j, r = I[k], J[k], nu + nm + 4 * k
            w[i], w[j] = xp[i], xp[j]
            out[r] = f1(w, args)
            w[j] = xm[j]
            out[r + 1] = f1(w, args)
            w[i], w[j] = xm[i], xp[j]
            out[r + 2] = f1(w, args)
            w[j] = xm[j]
            out[r + 3] = f1(w, args)
            w[i], w[j] = x[i], x[j]
        return out

    @njit
    def points(X, args):  # pragma: no cover - jit
        out = np.empty(X.shape[0])
        for k in range(X.shape[0]):
            out[k] = f1(X[k].copy(), args)
        return out

    return {"pairs": pairs, "changes": changes, "points": points}
