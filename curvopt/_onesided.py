"""One-sided finite differences where the central Hessian stencil meets a non-finite value.

Diagonal entry i with one bad side s (steps a = s h2_i and b = 2 s h2_i from x, exact
offsets): f'' ~ 2((f_b - f0)/b - (f_a - f0)/a)/(b - a), f' ~ ((f_a - f0) b/a - (f_b - f0)
a/b)/(b - a), both of order 1 (Nocedal & Wright 2006, sec. 8.1, forward differences).
Off-diagonal (i, j): the first quadrant (s_i, s_j) whose corner is finite,
(F_s - f_i - f_j + f0) / (d_i d_j) with the axis values at step h.
"""
from __future__ import annotations

import numpy as np

__all__ = ["one_sided"]


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
