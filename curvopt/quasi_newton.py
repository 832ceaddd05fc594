"""Quasi-Newton upkeep of the loop's model between FD Hessians.

Gradients, the symmetric rank-one (SR1) update, a 2-evaluation check of the negative
curvature an SR1 estimate suggests, the curvature class of the model for the history, and
the diagonal scaling of an ellipsoidal trust region.

After an accepted step the loop takes only a gradient and updates H by

    H+ = H + r r' / (r's),   r = y - H s,   s = x+ - x,   y = g+ - g

(SR1, Nocedal & Wright 2006 eq. 6.24), skipped when |r's| < 1e-8 ||s|| ||r|| (eq. 6.26).
Unlike BFGS it can represent negative curvature.

The gradient is the user's when given; otherwise finite differences of f by
:func:`curvopt.differentiate.fd_gradient` (steps from the relative noise eps_f stored on
the objective, N&W 2006 sec. 8.1; Gill, Murray & Wright 1981 sec. 8.6):

    forward   h_i = eps_f^(1/2) max(1, |x_i|)   n evaluations,  error h |H_ii| / 2 + rounding
    central   h_i = eps_f^(1/3) max(1, |x_i|)   2n evaluations, error h^2 |f'''| / 6 + rounding

Forward differences are used while ||g|| > sqrt(gtol) max(1, |f|) and their error is below
1% of ||g|| ("far" from stationarity); central differences otherwise, at the loop's
per-coordinate steps when it has them (:func:`curvopt.model.gradient_steps`). The size of the
error reported with g (``g_tol``, the hard-case threshold of the subproblem) is the
rounding part of the bound, plus the forward truncation h |H_ii| / 2.
"""
from __future__ import annotations

import numpy as np

from curvopt.differentiate import fd_gradient
from curvopt.objective import NonFiniteError

__all__ = ["loop_gradient", "is_far", "sr1", "confirm_curvature", "curvature_class",
           "trust_scaling"]

SR1_SKIP = 1e-8                   # N&W (2006) eq. 6.26


def _rel(obj):
    """Relative noise of f that sets the steps: the stored ECnoise estimate, or f_eps."""
    return float(obj.noise.step_rel) if obj.noise is not None else obj.f_eps


def is_far(obj, x, f, g, H, gtol):
    """Forward differences suffice: ||g|| > sqrt(gtol) max(1, |f|) and their error
    h |H_ii| / 2 + 2 eps_f |f| / h (N&W 2006 eq. 8.3-8.4) is below 1% of ||g||."""
    gnorm = float(np.linalg.norm(g))
    rel = _rel(obj)
    h = np.sqrt(rel) * np.maximum(1.0, np.abs(np.asarray(x, float)))
    err = float(np.linalg.norm(h * np.abs(np.diag(H)) / 2 + 2 * rel * abs(f) / h))
    return gnorm > np.sqrt(gtol) * max(1.0, abs(f)) and err < 0.01 * gnorm


def loop_gradient(obj, x, f, far=False, H=None, step=None):
    """(g, g_tol, at_x): the user gradient; else forward differences when ``far`` (with
    the truncation bound from diag(H)), central otherwise or where a forward point is not
    finite; ``at_x`` False for the forward estimate. ``g_tol`` is the size of the error.
    ``step``: absolute per-coordinate central steps (:func:`curvopt.model.gradient_steps`), else the
    default rule."""
    if obj.has_grad:
        g = obj.grad(x)
        return g, 10 * obj.f_eps * float(np.linalg.norm(g)), True
    if far:
        try:
            deriv = None if H is None else np.abs(np.diag(H))
            res = fd_gradient(obj, x, f, scheme="forward", deriv=deriv)
            err = res.error if deriv is not None else res.rounding
            return res.df, float(np.linalg.norm(err)), False
        except NonFiniteError:
            pass
    res = fd_gradient(obj, x, f, scheme="central", step=step)
    return res.df, float(np.linalg.norm(res.rounding)), True

def sr1(H, s, y):
    """Symmetric rank-one update, N&W (2006) eq. 6.24 with the skip rule eq. 6.26."""
    r = y - H @ s
    denom = float(r @ s)
    if denom == 0 or abs(denom) < SR1_SKIP * np.linalg.norm(s) * np.linalg.norm(r):
        return H
    return H + np.outer(r, r) / denom


def confirm_curvature(obj, x, f, H):
    """Check the negative eigenvalues of an SR1 estimate H by second differences of f.

    Along the bottom unit eigenvector v,
    c = 2 (h- f+ - (h+ + h-) f + h+ f-) / (h+ h- (h+ + h-))
    with f+- = f(x +- h v) (2 evaluations; h = eps_f^(1/4) max(1, |x|'|v|), N&W 2006
    sec. 8.1, the central second difference along v for the representable h+-). H is
    corrected by the rank-one term (c - v'Hv) vv', so that v'Hv = c: a spurious negative
    eigenvalue is replaced by the measured curvature, at 2 evaluations instead of the
    2n^2 + 1 of an FD Hessian. Repeated while the bottom eigenvalue is negative and the
    previous one was spurious (c >= 0); stops at the first confirmed one (c < 0, kept for
    the trust-region step to exploit). Returns the corrected H, or None when a value is
    not finite (the caller rebuilds the FD Hessian).
    """
    rel = _rel(obj)
    xf = np.asarray(x, float)
    for _ in range(obj.n):
        lam, V = np.linalg.eigh(H)
        if lam[0] >= 0:
            return H
        v = V[:, 0]
        h = rel ** 0.25 * max(1.0, float(np.abs(xf) @ np.abs(v)))
        xp, xm = (xf + h * v).astype(x.dtype), (xf - h * v).astype(x.dtype)
        hp, hm = (xp.astype(float) - xf) @ v, (xf - xm.astype(float)) @ v
        fp, fm = obj.f(xp), obj.f(xm)
        if not (np.isfinite(fp) and np.isfinite(fm)) or hp <= 0 or hm <= 0:
            return None
        c = 2.0 * (hm * fp - (hp + hm) * f + hp * fm) / (hp * hm * (hp + hm))
        H = H + (c - lam[0]) * np.outer(v, v)
        if c < 0:
            return H
    return H


def curvature_class(lam, f_eps):
    """Class of H from its ascending eigenvalues, zero meaning within sqrt(eps_f) max|lam|
    (the relative accuracy of an FD Hessian at step eps_f^(1/4)); no error bounds."""
    tol = np.sqrt(f_eps) * float(np.max(np.abs(lam)))
    if lam[0] > tol:
        return "positive definite"
    if lam[-1] < -tol:
        return "negative definite"
    return "indefinite" if lam[0] < -tol and lam[-1] > tol else "singular"


def trust_scaling(mode, x, H, d=None):
    """Diagonal D of the ellipsoidal trust region ||D p|| <= delta (N&W 2006 sec. 4.5).

    ``"hessian"``: More (1978), d_i = max(d_i, sqrt|H_ii|) accumulated over the FD
    Hessians, floored at 1e-3 max_j d_j; ``"x"``: d_i = 1 / max(1, |x_i|) (radius
    relative to the size of each parameter); ``"none"``: None (the Euclidean ball).
    """
    if mode == "x":
        return 1.0 / np.maximum(1.0, np.abs(np.asarray(x, float)))
    if mode != "hessian":
        return None
    dh = np.sqrt(np.abs(np.diag(H)))
    if not np.all(np.isfinite(dh)) or dh.max() == 0:
        return d
    dh = np.maximum(dh, 1e-3 * dh.max())
    return dh if d is None else np.maximum(d, dh)
