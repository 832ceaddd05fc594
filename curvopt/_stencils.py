"""Finite-difference stencils: where to evaluate f, and how to combine the values.

With steps h_i (representable: h_i = (x_i + h_i) - x_i) and the unit vectors e_i,

    g_i  ~ (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)                           (central)
    H_ij ~ (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
            - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)  (i != j)
    H_ii ~ (f(x + 2 h_i e_i) - 2 f(x) + f(x - 2 h_i e_i)) / (4 h_i^2)

(Nocedal & Wright 2006, eqs. 8.7 and 8.21; the diagonal at +-2h is the numdifftools
choice: it makes H exactly the central-difference Jacobian of the central-difference
gradient, and it is 2-3x more accurate than a 3-point diagonal at step h for the same
cost.) One Hessian costs f(x), 2n axis values and 2n(n-1) cross values: 2n^2 + 1 in all,
and the axis values at +-2h give a central gradient for free.

Two kinds of kernels live here:

* objective-independent combine formulas, compiled once with ``cache=True``;
* evaluation loops that call the user's ``@njit`` objective.  They are built per
  objective by :func:`make_jit_kernels` as closures over the dispatcher, so that calling
  them from Python costs about 1 us instead of the 7-13 us of a kernel that takes the
  dispatcher as an argument.  Measured with numba 0.68: neither form hits the on-disk
  cache in a second process (the cache key holds the dispatcher's address), so these
  loops are compiled without ``cache=True`` (about 0.15 s each, once per objective and
  process) instead of writing unusable cache files.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["combine_hessian", "combine_central", "make_jit_kernels", "pair_index"]


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
def combine_central(fp, fm, h):  # pragma: no cover - jit
    """Central differences (fp - fm) / (2 h), elementwise."""
    return (fp - fm) / (2.0 * h)


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
        ``f_many(X, args)``, ``axis(x, xp, xm, args)``, ``cross(x, xp, xm, args)``,
        ``cross_parallel(x, xp, xm, args)``.
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
    def axis(x, xp, xm, args):
        n = x.shape[0]
        fp = np.empty(n)
        fm = np.empty(n)
        w = x.copy()
        for i in range(n):
            w[i] = xp[i]
            fp[i] = f1(w, args)
            w[i] = xm[i]
            fm[i] = f1(w, args)
            w[i] = x[i]
        return fp, fm

    @njit
    def cross_row(i, x, xp, xm, args, F):
        w = x.copy()
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

    @njit
    def cross(x, xp, xm, args):
        n = x.shape[0]
        F = np.zeros((4, n, n))
        for i in range(n):
            cross_row(i, x, xp, xm, args, F)
        return F

    @njit(parallel=True)
    def cross_parallel(x, xp, xm, args):
        # rows r and n-1-r together: equal work per prange iteration
        n = x.shape[0]
        F = np.zeros((4, n, n))
        for r in prange((n + 1) // 2):
            cross_row(r, x, xp, xm, args, F)
            if n - 1 - r != r:
                cross_row(n - 1 - r, x, xp, xm, args, F)
        return F

    return {"f_many": f_many, "axis": axis, "cross": cross, "cross_parallel": cross_parallel}
