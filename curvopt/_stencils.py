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
* evaluation loops that call the user's ``@njit`` objective.  They are built per
  objective by :func:`make_jit_kernels` as closures over the dispatcher, so that calling
  them from Python costs about 1 us instead of the 7-13 us of a kernel that takes the
  dispatcher as an argument (typing the dispatcher argument on every call).  Measured
  with numba 0.68: with ``cache=True`` neither form is found in the on-disk cache by a
  second process (the index key holds the dispatcher type, resp. the pickled closure
  cell, both specific to the process), and every process appends one more cache entry.
  So these loops are compiled without ``cache=True``: about 0.5 s once per objective and
  process (``f_many`` and ``stencil``; the ``prange`` version only when asked for).

A cacheable alternative (:func:`make_fc_kernels`): loops whose objective parameter has
the numba first-class function type ``FunctionType(float64(float64[::1]))`` have a FIXED
signature, so ``cache=True`` works across processes; the user's dispatcher is passed as
that argument (numba compiles it for the signature on demand; its exceptions propagate,
unlike a ``cfunc``, which prints them and returns 0).  Measured (numba 0.68, 2 cores,
Rosenbrock n = 10): second process first call 3 ms instead of 0.5-0.9 s; but converting
the dispatcher costs ~28 us per call from Python (a cfunc ~11 us, the closure ~1 us).
:class:`curvopt.objective.Objective` uses them only when the objective is itself
``cache=True`` (the user asked for a fast start), ``args == ()`` and x is float64; the
closure pays back its 0.5 s compile only after ~20000 kernel calls, so after
``FC_CALLS`` = 25000 calls an objective switches to its closures (ski rental).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types

__all__ = ["combine_hessian", "summarize", "stencil_steps", "representable", "step_sizes",
           "one_sided", "make_jit_kernels", "make_fc_kernels", "pair_index"]


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

    return {"f_many": f_many, "stencil": stencil, "stencil_parallel": _parallel(f1)}


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

    @njit
    def f1(x, args):
        return fun(x)
    return {"f_many": f_many_k, "stencil": stencil_k, "stencil_parallel": _parallel(f1)}


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


def one_sided(f0, fp2, fm2, F, H, g, x, xp, xm, xp2, xm2, feval):
    """Replace entries whose central formula meets a non-finite value by one-sided ones.

    Diagonal (and gradient) entry i with one bad side s: from f at 0, a = s h2_i and
    b = 2 s h2_i (one new value; exact offsets), f'' ~ 2((f_b - f0)/b - (f_a - f0)/a)/(b - a)
    and f' ~ ((f_a - f0) b/a - (f_b - f0) a/b)/(b - a).  Off-diagonal (i, j): the first
    quadrant (s_i, s_j) whose corner is finite, with the axis values at step h
    (evaluated on demand): (F_s - f_i - f_j + f0) / (d_i d_j), d = signed actual steps.
    Modifies H (symmetrically) and g in place.

    Returns
    -------
    mask : ndarray of bool, shape (n, n)
        Entries computed one-sided (the diagonal also marks g); None if some entry has
        no finite one-sided formula.
    """
    n = x.shape[0]
    mask = np.zeros((n, n), dtype=bool)
    x64 = x.astype(np.float64)
    for i in np.flatnonzero(~(np.isfinite(fp2) & np.isfinite(fm2))):
        ok, H[i, i], g[i] = _diag_one_sided(i, f0, fp2, fm2, x, x64, xp2, xm2, feval)
        if not ok:
            return None
        mask[i, i] = True
    axis = {}
    I, J = np.nonzero(np.triu(~np.all(np.isfinite(F), axis=0), 1))
    for i, j in zip(I, J):
        for s, (si, sj) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
            fi = _axis_value(axis, i, si, x, xp, xm, feval)
            fj = _axis_value(axis, j, sj, x, xp, xm, feval)
            if np.isfinite(F[s, i, j]) and np.isfinite(fi) and np.isfinite(fj):
                di = float((xp if si > 0 else xm)[i]) - x64[i]
                dj = float((xp if sj > 0 else xm)[j]) - x64[j]
                H[i, j] = H[j, i] = (((F[s, i, j] - fi) - (fj - f0)) / di) / dj
                mask[i, j] = mask[j, i] = True
                break
        else:
            return None
    return mask


def _diag_one_sided(i, f0, fp2, fm2, x, x64, xp2, xm2, feval):
    s = 1.0 if np.isfinite(fp2[i]) else -1.0
    fa = fp2[i] if s > 0 else fm2[i]
    if not np.isfinite(fa):
        return False, np.nan, np.nan
    a = float((xp2 if s > 0 else xm2)[i]) - x64[i]
    y = x.copy()
    y[i] = x[i] + 2.0 * a
    b = float(y[i]) - x64[i]
    fb = float(feval(y[None, :])[0])
    if not np.isfinite(fb):
        return False, np.nan, np.nan
    Hii = 2.0 * ((fb - f0) / b - (fa - f0) / a) / (b - a)
    gi = ((fa - f0) * (b / a) - (fb - f0) * (a / b)) / (b - a)
    return True, Hii, gi


def _axis_value(cache, i, s, x, xp, xm, feval):
    if (i, s) not in cache:
        y = x.copy()
        y[i] = (xp if s > 0 else xm)[i]
        cache[(i, s)] = float(feval(y[None, :])[0])
    return cache[(i, s)]
