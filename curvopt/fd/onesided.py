"""One-sided differences where a central Hessian stencil meets a non-finite value.

Used only after the steps were shrunk toward a domain edge and some stencil points are
still outside the domain (:func:`curvopt.fd.estimates.hessian_stencil`). Orders are 1
(Nocedal & Wright 2006, sec. 8.1, forward differences), so the caller reports no bound
for these entries.

Diagonal entry i with one bad side s (steps a = s h2_i and b = 2a from x, exact offsets):
f'' ~ 2((f_b - f0)/b - (f_a - f0)/a)/(b - a), f' ~ ((f_a - f0) b/a - (f_b - f0) a/b)/(b - a).
Pair (i, j): the first quadrant (s_i, s_j) whose corner is finite,
(F_s - f_i - f_j + f0) / (d_i d_j) with the axis values at step h (evaluated on demand).
"""
from __future__ import annotations

import numpy as np

__all__ = ["one_sided"]

_QUADRANTS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


def one_sided(obj, batch, f0, vals, d, o, g):
    """Replace (in place) entries of d, o, g whose central formula meets a non-finite value.

    ``batch`` is the Hessian stencil (a :class:`~curvopt.evaluation.PairBatch`: x, its
    axis points x -+ 2h in ``up``/``um``, x -+ h in ``xp``/``xm``, the pairs I, J) and
    ``vals`` its values (layout of :mod:`curvopt.fd.stencils`). Returns the mask of
    coordinates with a one-sided entry, or None when some entry has no finite one-sided
    formula.
    """
    x, xp, xm, xp2, xm2, I, J = (batch.x, batch.xp, batch.xm, batch.up, batch.um, batch.I,
                                 batch.J)
    n = x.shape[0]
    x64 = x.astype(np.float64)
    mask = np.zeros(n, dtype=bool)
    fp2, fm2 = vals[:n], vals[n:2 * n]
    for i in np.flatnonzero(~(np.isfinite(fp2) & np.isfinite(fm2))):
        entry = _diag(obj, i, f0, fp2, fm2, x, x64, xp2, xm2)
        if entry is None:
            return None
        d[i], g[i] = entry
        mask[i] = True
    corners = vals[2 * n:].reshape(-1, 4)
    axis = {}
    for k in np.flatnonzero(~np.all(np.isfinite(corners), axis=1)):
        i, j = int(I[k]), int(J[k])
        for s, (si, sj) in enumerate(_QUADRANTS):
            fi = _axis(obj, axis, i, si, x, xp, xm)
            fj = _axis(obj, axis, j, sj, x, xp, xm)
            if np.isfinite(corners[k, s]) and np.isfinite(fi) and np.isfinite(fj):
                di = float((xp if si > 0 else xm)[i]) - x64[i]
                dj = float((xp if sj > 0 else xm)[j]) - x64[j]
                o[k] = (((corners[k, s] - fi) - (fj - f0)) / di) / dj
                mask[i] = mask[j] = True
                break
        else:
            return None
    return mask


def _diag(obj, i, f0, fp2, fm2, x, x64, xp2, xm2):
    """(f''_ii, f'_i) one-sided from f0, f_a (the finite side) and f_b at 2a, or None."""
    s = 1.0 if np.isfinite(fp2[i]) else -1.0
    fa = fp2[i] if s > 0 else fm2[i]
    if not np.isfinite(fa):
        return None
    a = float((xp2 if s > 0 else xm2)[i]) - x64[i]
    y = x.copy()
    y[i] = x[i] + 2.0 * a
    b = float(y[i]) - x64[i]
    fb = obj.f(y)
    if not np.isfinite(fb):
        return None
    return (2.0 * ((fb - f0) / b - (fa - f0) / a) / (b - a),
            ((fa - f0) * (b / a) - (fb - f0) * (a / b)) / (b - a))


def _axis(obj, cache, i, s, x, xp, xm):
    """f(x + s h_i e_i), evaluated once."""
    if (i, s) not in cache:
        y = x.copy()
        y[i] = (xp if s > 0 else xm)[i]
        cache[(i, s)] = obj.f(y)
    return cache[(i, s)]
