"""Finite-difference stencils: where to evaluate f, and how to combine the values.

With steps h_i (representable: h_i = (x_i + h_i) - x_i) and the unit vectors e_i,

    g_i  ~ (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)                           (central)
    H_ij ~ (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
            - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)  (i != j)
    H_ii ~ (f(x + 2 h_i e_i) - 2 f(x) + f(x - 2 h_i e_i)) / (4 h_i^2)

(Nocedal & Wright 2006, sec. 8.1, central analogues of its formulas; the diagonal at +-2h is the numdifftools
choice: it makes H exactly the central-difference Jacobian of the central-difference
gradient, and it is 2-3x more accurate than a 3-point diagonal at step h for the same
cost.) One Hessian costs f(x), 2n axis values and 2n(n-1) cross values: 2n^2 + 1 in all,
and the axis values at +-2h give a central gradient for free.

Two kinds of kernels live here:

* objective-independent combine formulas, compiled once with ``cache=True``;
* evaluation loops that call the user's ``@njit`` objective, built per objective by
  :func:`make_jit_kernels` as closures over the dispatcher: calling them from Python
  costs about 1 us instead of the 7-13 us of a kernel that takes the dispatcher as an
  argument (typed on every call).  With numba 0.68 neither form is found in the on-disk
  cache by a second process (the index key holds the dispatcher type, resp. the pickled
  closure cell), so they are compiled without ``cache=True``: 1-2 s once per objective
  and process (benchmarks/results/bench_hessian.txt).  ``fused`` (:func:`_fused`) runs a whole Hessian stencil in ONE
  call (steps, 2n^2 values, H, g, summary): at n = 10 a 22 ns f costs 4.4 us, so
  every Python-level call counts.

Cacheable alternative (:func:`make_fc_kernels`): loops whose objective parameter has the
first-class function type ``FunctionType(float64(float64[::1]))`` have a FIXED signature,
so ``cache=True`` works across processes (the dispatcher is compiled for it on demand; its
exceptions propagate, unlike a ``cfunc``'s).  Measured (numba 0.68, Rosenbrock n = 10):
second process first call 3 ms instead of 0.5-0.9 s, but converting the dispatcher costs
~28 us per call (the closure ~1 us).  :class:`curvopt.objective.Objective` uses them only
when the objective is itself ``cache=True``, ``args == ()`` and x is float64; after
``FC_CALLS`` = 25000 calls (~one closure compile of overhead) it switches to its
closures (ski rental).
"""
from __future__ import annotations

import types as pytypes

import numpy as np
from numba import njit, prange, types

from curvopt._onesided import one_sided

__all__ = ["combine_hessian", "summarize", "stencil_steps", "representable", "step_sizes",
           "one_sided", "make_jit_kernels", "make_fc_kernels", "pair_index", "NO_STEPS",
           "fused_views"]


@njit(cache=True)
def stencil_steps(x, h):  # pragma: no cover - jit
    """Representable steps: xp = x + h, h = xp - x (exact), xm = x - h, all in x's dtype.

    Returns (h, xp, xm, ok) with h in float64; ok is False when a step rounds to zero.
    """
    n = x.shape[0]
    xp = np.empty_like(x)
    xm = np.empty_like(x)
    he = np.empty(n)
    ok = True
    for i in range(n):
        xp[i] = x[i] + h[i]
        he[i] = np.float64(xp[i]) - np.float64(x[i])
        xm[i] = x[i] - he[i]
        if not he[i] > 0.0:
            ok = False
    return he, xp, xm, ok


def representable(x, h):
    """(h, xp, xm): steps with xp = x + h exact in x's dtype, xm = x - h."""
    h, xp, xm, ok = stencil_steps(x, np.ascontiguousarray(h, dtype=np.float64))
    if not ok:
        raise ValueError(f"step rounds to zero at indices {np.flatnonzero(~(h > 0))}; "
                         "use a larger step")
    return h, xp, xm


def step_sizes(x, power, rel, step=None, rel_step=None):
    """Target steps: ``step`` (absolute), or rel_step or rel^power times max(1, |x_i|)."""
    scale = np.maximum(1.0, np.abs(x.astype(np.float64)))
    if step is not None:
        h = np.broadcast_to(np.abs(np.asarray(step, dtype=np.float64)), x.shape).copy()
    elif rel_step is not None:
        h = np.abs(float(rel_step)) * scale
    else:
        h = rel ** power * scale
    if not (h.min() > 0 and np.isfinite(h.max())):
        raise ValueError(f"steps must be positive and finite; got {h}")
    return h


@njit(cache=True)
def combine_hessian(f0, fp2, fm2, Fpp, Fpm, Fmp, Fmm, h, h2):  # pragma: no cover - jit
    """H (symmetric) and the central gradient from the 2n^2 stencil values.

    ``Fpp[i, j] = f(x + h_i e_i + h_j e_j)`` etc. for i < j (upper triangle only),
    ``fp2[i] = f(x + h2_i e_i)``, ``fm2[i] = f(x - h2_i e_i)`` with h2 ~ 2h.
    """
    n = h.shape[0]
    H = np.empty((n, n))
    g = np.empty(n)
    for i in range(n):
        H[i, i] = ((fp2[i] - f0) + (fm2[i] - f0)) / (h2[i] * h2[i])
        g[i] = (fp2[i] - fm2[i]) / (2.0 * h2[i])
        for j in range(i + 1, n):
            v = ((Fpp[i, j] - Fpm[i, j]) - (Fmp[i, j] - Fmm[i, j])) / (4.0 * h[i] * h[j])
            H[i, j] = v
            H[j, i] = v
    return H, g


@njit(cache=True)
def summarize(f0, fp2, fm2, F):  # pragma: no cover - jit
    """(fmax, nbad, best, kind, i, j) over the 2n^2 + 1 stencil values.

    fmax = max |f| over finite values, nbad = number of non-finite values, best = the
    smallest value with its location: kind 0/1 = axis point +-h2_i (j = -1), kind
    2..5 = cross corner s = kind - 2 of pair (i, j); kind -1 = f0 itself.
    """
    n = fp2.shape[0]
    fmax, nbad, best, kind, bi, bj = abs(f0), 0, f0, -1, -1, -1
    for i in range(n):
        for k in range(2):
            v = fp2[i] if k == 0 else fm2[i]
            if not np.isfinite(v):
                nbad += 1
                continue
            fmax = max(fmax, abs(v))
            if v < best:
                best, kind, bi, bj = v, k, i, -1
        for j in range(i + 1, n):
            for s in range(4):
                v = F[s, i, j]
                if not np.isfinite(v):
                    nbad += 1
                    continue
                fmax = max(fmax, abs(v))
                if v < best:
                    best, kind, bi, bj = v, 2 + s, i, j
    return fmax, nbad, best, kind, bi, bj


def pair_index(n):
    """Row-major index arrays (I, J) of the pairs i < j, as ``np.triu_indices(n, 1)``."""
    return np.triu_indices(n, 1)


def make_jit_kernels(fun, first=False):
    """Compiled evaluation loops specialized to the ``@njit`` objective ``fun``.

    Parameters
    ----------
    fun : numba dispatcher
        Called as ``fun(x, *args)``; returns a scalar, or a tuple ``(f, g)`` when
        ``first`` is True (scipy's ``jac=True`` convention).

    Returns
    -------
    dict
        ``f_many(X, args)``: f at the rows of X; ``stencil(x, xp, xm, xp2, xm2, args)``:
        the Hessian stencil values (fp2, fm2, F) as in
        :meth:`curvopt.objective.Objective.hess_values`; ``stencil_parallel``: a function
        that builds (compiles) the prange version on demand.
    """
    if first:
        @njit
        def f1(x, args):
            return fun(x, *args)[0]
    else:
        @njit
        def f1(x, args):
            return fun(x, *args)

    @njit
    def f_many(X, args):
        m = X.shape[0]
        out = np.empty(m)
        for k in range(m):
            out[k] = f1(np.ascontiguousarray(X[k]), args)
        return out

    @njit
    def stencil(x, xp, xm, xp2, xm2, args):
        n = x.shape[0]
        fp2 = np.empty(n)
        fm2 = np.empty(n)
        F = np.zeros((4, n, n))
        w = x.copy()
        for i in range(n):
            w[i] = xp2[i]
            fp2[i] = f1(w, args)
            w[i] = xm2[i]
            fm2[i] = f1(w, args)
            for j in range(i + 1, n):
                w[i] = xp[i]
                w[j] = xp[j]
                F[0, i, j] = f1(w, args)
                w[j] = xm[j]
                F[1, i, j] = f1(w, args)
                w[i] = xm[i]
                F[3, i, j] = f1(w, args)
                w[j] = xp[j]
                F[2, i, j] = f1(w, args)
                w[j] = x[j]
            w[i] = x[i]
        return fp2, fm2, F

    fused = njit(pytypes.FunctionType(_fused.__code__, {**_fused.__globals__, "_OBJ": f1}))
    return {"f_many": f_many, "stencil": stencil, "stencil_parallel": _parallel(f1),
            "fused": fused}


#: ``hv`` argument of the fused kernel meaning "default steps c max(1, |x_i|)".
NO_STEPS = np.empty(0)


def _fused(x, c, hv, f0, args):  # pragma: no cover - jit
    """The whole Hessian stencil in one compiled call: steps, 2n^2 values, H, g, summary.

    Target steps h_i = hv[i], or c max(1, |x_i|) when hv is empty; representable steps at
    h and h2 ~ 2h, values ``_OBJ(w, args)``, :func:`combine_hessian`, :func:`summarize`.
    ``_OBJ`` is a global bound per objective (:func:`make_jit_kernels` clones this function
    with its own globals): one compiled layer, no wrapper (a wrapper doubled the compile).

    Returns (H, buf), two arrays (each boxed array costs ~0.5 us): buf = [stats (7) | g |
    aux (8 n: h, h2, xp, xm, xp2, xm2, fp2, fm2) | F (4 n^2)], see :func:`fused_views`;
    stats = (ok, *summarize); ok = 0: a step rounds to zero and nothing was evaluated.
    """
    n = x.shape[0]
    buf = np.zeros(7 + 9 * n + 4 * n * n)
    aux, F = buf[7 + n:7 + 9 * n].reshape((8, n)), buf[7 + 9 * n:].reshape((4, n, n))
    for i in range(n):
        aux[0, i] = hv[i] if hv.shape[0] else c * max(1.0, abs(np.float64(x[i])))
    h, xp, xm, ok = stencil_steps(x, aux[0])
    h2, xp2, xm2, ok2 = stencil_steps(x, 2.0 * h)
    if not (ok and ok2):
        return np.zeros((n, n)), buf
    fp2, fm2 = aux[6], aux[7]
    w = x.copy()
    for i in range(n):
        w[i] = xp2[i]
        fp2[i] = _OBJ(w, args)
        w[i] = xm2[i]
        fm2[i] = _OBJ(w, args)
        for j in range(i + 1, n):
            w[i], w[j] = xp[i], xp[j]
            F[0, i, j] = _OBJ(w, args)
            w[j] = xm[j]
            F[1, i, j] = _OBJ(w, args)
            w[i] = xm[i]
            F[3, i, j] = _OBJ(w, args)
            w[j] = xp[j]
            F[2, i, j] = _OBJ(w, args)
            w[j] = x[j]
        w[i] = x[i]
    H, g = combine_hessian(f0, fp2, fm2, F[0], F[1], F[2], F[3], h, h2)
    for i in range(n):
        buf[7 + i], aux[0, i], aux[1, i], aux[2, i] = g[i], h[i], h2[i], xp[i]
        aux[3, i], aux[4, i], aux[5, i] = xm[i], xp2[i], xm2[i]
    fmax, nbad, best, kind, bi, bj = summarize(f0, fp2, fm2, F)
    buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6] = 1.0, fmax, nbad, best, kind, bi, bj
    return H, buf


def fused_views(buf, n):
    """(stats, g, aux, F): views into the buffer returned by the fused kernel."""
    return (buf[:7], buf[7:7 + n], buf[7 + n:7 + 9 * n].reshape(8, n),
            buf[7 + 9 * n:].reshape(4, n, n))


_OBJ = None    # the objective inside _fused: rebound per objective


def _f_many_fc(f, X):  # pragma: no cover - jit
    out = np.empty(X.shape[0])
    for k in range(X.shape[0]):
        out[k] = f(np.ascontiguousarray(X[k]))
    return out


def _stencil_fc(f, x, xp, xm, xp2, xm2):  # pragma: no cover - jit
    n = x.shape[0]
    fp2, fm2, F = np.empty(n), np.empty(n), np.zeros((4, n, n))
    w = x.copy()
    for i in range(n):
        w[i] = xp2[i]
        fp2[i] = f(w)
        w[i] = xm2[i]
        fm2[i] = f(w)
        for j in range(i + 1, n):
            w[i], w[j] = xp[i], xp[j]
            F[0, i, j] = f(w)
            w[j] = xm[j]
            F[1, i, j] = f(w)
            w[i] = xm[i]
            F[3, i, j] = f(w)
            w[j] = xp[j]
            F[2, i, j] = f(w)
            w[j] = x[j]
        w[i] = x[i]
    return fp2, fm2, F


_FC = {}
#: kernel calls after which an objective's first-class loops give way to its closures: the
#: ~30 us extra per call then adds up to about one closure compile (0.5-0.9 s), the
#: ski-rental rule (at most twice the better of the two choices in hindsight).
FC_CALLS = 25000


def _fc_loops():
    """The two first-class-function loops, compiled (or loaded from the cache) on first use."""
    if not _FC:
        a1, fty = types.float64[::1], types.FunctionType(types.float64(types.float64[::1]))
        _FC["f_many"] = njit(a1(fty, types.float64[:, ::1]), cache=True)(_f_many_fc)
        _FC["stencil"] = njit(types.Tuple((a1, a1, types.float64[:, :, ::1]))(
            fty, a1, a1, a1, a1, a1), cache=True)(_stencil_fc)
    return _FC


def make_fc_kernels(fun):
    """Cacheable loops for an ``@njit`` objective ``fun(x) -> float`` (no args, float64):
    same call convention as :func:`make_jit_kernels` (``args`` must be ``()``).  When
    ``fun`` does not fit the signature (numba raises TypeError "mismatch of return
    type", e.g. it returns float32, an int or an array) the closures take over."""
    loops, closures, calls = _fc_loops(), {}, [0]

    def call(name, fc_args, args):
        if not closures:
            if name not in loops:        # no fc "fused": None = take the per-step loops
                return None
            calls[0] += 1
            try:
                if calls[0] <= FC_CALLS:
                    return loops[name](fun, *fc_args)
            except TypeError:
                pass
            closures.update(make_jit_kernels(fun, False))
        return closures[name](*fc_args, args)

    def f_many_k(X, args):
        return call("f_many", (X,), args)

    def stencil_k(x, xp, xm, xp2, xm2, args):
        return call("stencil", (x, xp, xm, xp2, xm2), args)

    def fused_k(x, c, hv, f0, args):
        return call("fused", (x, c, hv, f0), args)

    @njit
    def f1(x, args):
        return fun(x)
    return {"f_many": f_many_k, "stencil": stencil_k, "stencil_parallel": _parallel(f1),
            "fused": fused_k}


def _parallel(f1):
    """Lazily compiled prange version of the stencil (rows r and n-1-r per iteration)."""
    def build():
        @njit
        def row(i, x, xp, xm, xp2, xm2, args, fp2, fm2, F):
            w = x.copy()
            w[i] = xp2[i]
            fp2[i] = f1(w, args)
            w[i] = xm2[i]
            fm2[i] = f1(w, args)
            w[i] = x[i]
            for j in range(i + 1, x.shape[0]):
                w[i] = xp[i]
                w[j] = xp[j]
                F[0, i, j] = f1(w, args)
                w[j] = xm[j]
                F[1, i, j] = f1(w, args)
                w[i] = xm[i]
                F[3, i, j] = f1(w, args)
                w[j] = xp[j]
                F[2, i, j] = f1(w, args)
                w[j] = x[j]
            return 0

        @njit(parallel=True)
        def stencil_parallel(x, xp, xm, xp2, xm2, args):
            n = x.shape[0]
            fp2 = np.empty(n)
            fm2 = np.empty(n)
            F = np.zeros((4, n, n))
            for r in prange((n + 1) // 2):
                row(r, x, xp, xm, xp2, xm2, args, fp2, fm2, F)
                if n - 1 - r != r:
                    row(n - 1 - r, x, xp, xm, xp2, xm2, args, fp2, fm2, F)
            return fp2, fm2, F
        return stencil_parallel
    return build
