"""Gradients between Hessian rebuilds, and the symmetric rank-one (SR1) update.

After an accepted step the loop takes only a gradient and updates H by

    H+ = H + r r' / (r's),   r = y - H s,   s = x+ - x,   y = g+ - g

(SR1, Nocedal & Wright 2006 eq. 6.24), skipped when |r's| < 1e-8 ||s|| ||r|| (eq. 6.26).
Unlike BFGS it can represent negative curvature.

The gradient is the user's when given; otherwise finite differences of f with the
relative noise eps_f of f (N&W 2006 sec. 8.1; Gill, Murray & Wright 1981 sec. 8.6):

    forward   h_i = eps_f^(1/2) max(1, |x_i|)   n evaluations,  error h |H_ii| / 2 + 2 eps_f |f| / h
    central   h_i = eps_f^(1/3) max(1, |x_i|)   2n evaluations, rounding error 2 eps_f max|f| / h

made representable (h_i = (x_i + h_i) - x_i). Forward differences are used while ||g||
> sqrt(gtol) max(1, |f|) and their error is below 1% of ||g|| ("far" from stationarity);
central differences otherwise. A Richardson second step 2h (2n more evaluations) bounds the
truncation error of the central formula by SAFETY |D_h - D_2h| / 3 (Richardson 1927).
"""
from __future__ import annotations

import numpy as np

__all__ = ["fd_gradient", "loop_gradient", "is_far", "sr1"]

SR1_SKIP = 1e-8                   # N&W (2006) eq. 6.26
SAFETY = 3.0                      # safety factor on the Richardson truncation estimate


def _steps(obj, x, f, power, f_noise=0.0, scale=1.0):
    """(eps_f, xp, h): representable steps h ~ scale eps_f^power max(1, |x_i|), xp = x + h
    exactly. eps_f: relative noise of f (``f_noise``, the rounding level, and the ECnoise
    estimate stored on ``obj.noise``: its ``rel`` for the error, ``step_rel`` for h)."""
    rel, rel_h = max(obj.f_eps, f_noise / max(1.0, abs(f))), obj.f_eps
    if obj.noise is not None:                 # ECnoise estimate (curvopt.noise)
        rel, rel_h = max(rel, float(obj.noise.rel)), float(obj.noise.step_rel)
    h = scale * max(rel, rel_h) ** power * np.maximum(1.0, np.abs(x.astype(np.float64)))
    xp = (x + h.astype(x.dtype)).astype(x.dtype)
    return rel, xp, xp.astype(np.float64) - x.astype(np.float64)


def _central(obj, x, f, power, scale=1.0, f_noise=0.0):
    """Central differences (2n evaluations), one-sided where one side is not finite;
    returns g and the rounding error 2 eps_f max|f| / h."""
    rel, xp, h = _steps(obj, x, f, power, f_noise, scale)
    xm = (x - h.astype(x.dtype)).astype(x.dtype)
    fp, fm = (np.asarray(v, float) for v in obj.axis_values(x, xp, xm))
    g = (fp - fm) / (2.0 * h)
    one_p, one_m = ~np.isfinite(fm) & np.isfinite(fp), ~np.isfinite(fp) & np.isfinite(fm)
    g[one_p] = (fp[one_p] - f) / h[one_p]
    g[one_m] = (f - fm[one_m]) / h[one_m]
    return g, 2.0 * rel * float(np.nanmax(np.abs(np.concatenate([[f], fp, fm])))) / h


def fd_gradient(obj, x, f, f_noise=0.0, richardson=False):
    """Central gradient at h = eps_f^(1/3) max(1, |x_i|) (N&W 2006 sec. 8.1) and its
    elementwise error: rounding, plus with ``richardson`` the truncation estimate
    SAFETY |D_h - D_2h| / 3 (D_h - D_2h = -3 h^2 f'''/6 + ...; 2n more evaluations)."""
    g, err = _central(obj, x, f, 1.0 / 3.0, f_noise=f_noise)
    if richardson:
        g2, err2 = _central(obj, x, f, 1.0 / 3.0, scale=2.0, f_noise=f_noise)
        err = SAFETY * np.abs(g - g2) / 3.0 + np.maximum(err, 2.0 * err2)
    return g, err


def _forward_gradient(obj, x, f):
    """Forward differences at h = sqrt(eps_f) max(1, |x_i|) (n evaluations); None when a
    forward point is not finite."""
    rel, xp, h = _steps(obj, x, f, 0.5)
    X = np.repeat(x[None, :], x.size, axis=0)
    X[np.arange(x.size), np.arange(x.size)] = xp
    fp = np.asarray(obj.f_many(X), float)
    if not np.all(np.isfinite(fp)):
        return None
    return (fp - f) / h, float(np.linalg.norm(2.0 * rel * max(abs(f), np.abs(fp).max()) / h))


def is_far(obj, x, f, g, H, gtol):
    """Forward differences suffice: ||g|| > sqrt(gtol) max(1, |f|) and their error
    h |H_ii| / 2 + 2 eps_f |f| / h (N&W 2006 eq. 8.3-8.4) is below 1% of ||g||."""
    gnorm = float(np.linalg.norm(g))
    rel, _, h = _steps(obj, x, f, 0.5)
    err = float(np.linalg.norm(h * np.abs(np.diag(H)) / 2 + 2 * rel * abs(f) / h))
    return gnorm > np.sqrt(gtol) * max(1.0, abs(f)) and err < 0.01 * gnorm


def loop_gradient(obj, x, f, far=False):
    """(g, g_tol, at_x): the user gradient; else forward differences when ``far``,
    central otherwise (or where a forward point is not finite); ``at_x`` False for the
    forward estimate. ``g_tol`` is the size of the error of g."""
    if obj.has_grad:
        g = obj.grad(x)
        return g, 10 * obj.f_eps * float(np.linalg.norm(g)), True
    out = _forward_gradient(obj, x, f) if far else None
    if out is not None:
        return out[0], out[1], False
    g, err = fd_gradient(obj, x, f)
    return g, float(np.linalg.norm(err)), True


def sr1(H, s, y):
    """Symmetric rank-one update, N&W (2006) eq. 6.24 with the skip rule eq. 6.26."""
    r = y - H @ s
    denom = float(r @ s)
    if denom == 0 or abs(denom) < SR1_SKIP * np.linalg.norm(s) * np.linalg.norm(r):
        return H
    return H + np.outer(r, r) / denom
