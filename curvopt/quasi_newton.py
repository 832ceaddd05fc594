"""Quasi-Newton upkeep of the loop's model between finite-difference Hessians.

After an accepted step the loop takes only a gradient and updates H by the symmetric
rank-one formula

    H+ = H + r r' / (r's),   r = y - H s,   s = x+ - x,   y = g+ - g

(SR1, Nocedal & Wright 2006 eq. 6.24), skipped when |r's| < 1e-8 ||s|| ||r|| (eq. 6.26).
Unlike BFGS it can represent negative curvature; a negative eigenvalue of the estimate is
checked by a second difference of f along its eigenvector (:func:`confirm_curvature`).

The gradient (:func:`loop_gradient`) is the user's when given; otherwise finite
differences of f (N&W 2006 sec. 8.1; Gill, Murray & Wright 1981 sec. 8.6), with eps_f the
relative noise of f:

    forward   h_i = eps_f^(1/2) max(1, |x_i|)   n evaluations,  error h |H_ii| / 2 + rounding
    central   h_i = eps_f^(1/3) max(1, |x_i|)   2n evaluations, error h^2 |f'''| / 6 + rounding

Forward differences while "far" from stationarity (:func:`is_far`), central otherwise, at
the loop's per-coordinate steps when it has them. The size of the error reported with g
(``g_tol``, the hard-case threshold of the subproblem) is the rounding part of the
bound, plus the forward truncation h |H_ii| / 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.fd.estimates import gradient_estimate
from curvopt.fd.steps import default_steps, scale
from curvopt.objective import NonFiniteError

__all__ = ["LoopGradient", "loop_gradient", "is_far", "sr1", "confirm_curvature",
           "trust_scaling"]

SR1_SKIP = 1e-8                   # N&W (2006) eq. 6.26


@dataclass(frozen=True)
class LoopGradient:
    """A gradient for the loop: g, the size of its error, whether it was taken at x by
    central differences or the user (``at_x``; False for forward differences), and the
    central steps (None unless a central FD estimate)."""

    g: np.ndarray
    g_tol: float
    at_x: bool
    steps: np.ndarray | None = None


def is_far(x, f, g, H, rel, typ=None):
    """Forward differences suffice: their error h |H_ii| / 2 + 2 eps_f |f| / h
    (N&W 2006 eqs. 8.3-8.4, h = eps_f^(1/2) s_i, s_i = max(|x_i|, typ_i)) is below 1% of
    ||g||."""
    gnorm = float(np.linalg.norm(g))
    h = default_steps(x, rel, "forward", typ)
    err = float(np.linalg.norm(h * np.abs(np.diag(H)) / 2 + 2 * rel * abs(f) / h))
    return err < 0.01 * gnorm


def loop_gradient(obj, x, f, sigma, rel, far=False, H=None, steps=None, typ=None):
    """The loop's gradient at x (a :class:`LoopGradient`): the user's; else forward
    differences when ``far`` (with the truncation bound from diag(H)), central otherwise
    or where a forward point is not finite; ``sigma`` is the noise of f at x, ``rel`` the
    relative noise that sets the steps. ``steps``: central steps per coordinate (e.g.
    from third derivatives), else the default rule with the typical sizes ``typ``."""
    if obj.has_grad:
        g = obj.grad(x)
        return LoopGradient(g, 10 * obj.jac_eps * float(np.linalg.norm(g)), True)
    if far:
        try:
            deriv = None if H is None else np.abs(np.diag(H))
            est = gradient_estimate(obj, x, f, sigma, default_steps(x, rel, "forward", typ),
                                    scheme="forward", errors=False, deriv=deriv)
            err = est.error if deriv is not None else est.rounding
            return LoopGradient(est.value, float(np.linalg.norm(err)), False)
        except NonFiniteError:
            pass
    h = default_steps(x, rel, "central", typ) if steps is None else steps
    est = gradient_estimate(obj, x, f, sigma, h, scheme="central", errors=False)
    return LoopGradient(est.value, float(np.linalg.norm(est.rounding)), True, est.step)


def sr1(H, s, y):
    """Symmetric rank-one update, N&W (2006) eq. 6.24 with the skip rule eq. 6.26."""
    r = y - H @ s
    denom = float(r @ s)
    if denom == 0 or abs(denom) < SR1_SKIP * np.linalg.norm(s) * np.linalg.norm(r):
        return H
    return H + np.outer(r, r) / denom


def confirm_curvature(obj, x, f, H, rel, typ=None):
    """Check the negative eigenvalues of an SR1 estimate H by second differences of f.

    Along the bottom unit eigenvector v,
    c = 2 (h- f+ - (h+ + h-) f + h+ f-) / (h+ h- (h+ + h-))
    with f+- = f(x +- h v) (2 evaluations; h = eps_f^(1/4) max(1, |x|'|v|), the central
    second difference along v for the representable h+-). H is corrected by the rank-one
    term (c - v'Hv) vv', so that v'Hv = c: a spurious negative eigenvalue is replaced by
    the measured curvature, at 2 evaluations instead of the 2n^2 + 1 of an FD Hessian.
    Repeated while the bottom eigenvalue is negative and the previous one was spurious
    (c >= 0); stops at the first confirmed one (c < 0). Returns the corrected H, or None
    when a value is not finite (the caller rebuilds the FD Hessian).
    """
    xf = np.asarray(x, float)
    for _ in range(obj.n):
        lam, V = np.linalg.eigh(H)
        if lam[0] >= 0:
            return H
        v = V[:, 0]
        h = rel ** 0.25 * float(scale(xf, typ) @ np.abs(v))
        xp, xm = (xf + h * v).astype(x.dtype), (xf - h * v).astype(x.dtype)
        hp, hm = (xp.astype(float) - xf) @ v, (xf - xm.astype(float)) @ v
        fp, fm = obj.values(np.stack([xp, xm]))
        if not (np.isfinite(fp) and np.isfinite(fm)) or hp <= 0 or hm <= 0:
            return None
        c = 2.0 * (hm * fp - (hp + hm) * f + hp * fm) / (hp * hm * (hp + hm))
        H = H + (c - lam[0]) * np.outer(v, v)
        if c < 0:
            return H
    return H


D_FLOOR = 1e-8     # trust-region scaling: d_i >= D_FLOOR max_j d_j


def trust_scaling(mode, x, H, d=None):
    """Diagonal D of the ellipsoidal trust region ||D p|| <= delta (N&W 2006 sec. 4.5).

    ``"hessian"``: More (1978), d_i = max(d_i, sqrt|H_ii|) accumulated over the FD
    Hessians, floored at ``D_FLOOR`` max_j d_j (1e-8: curvatures may span 16 decades, and a
    higher floor clamps the soft parameters' steps; docs/solver.md); ``"x"``: d_i = 1 / max(1, |x_i|) (radius
    relative to the size of each parameter); ``"none"``: None (the Euclidean ball).
    """
    if mode == "x":
        return 1.0 / np.maximum(1.0, np.abs(np.asarray(x, float)))
    if mode != "hessian":
        return None
    dh = np.sqrt(np.abs(np.diag(H)))
    if not np.all(np.isfinite(dh)) or dh.max() == 0:
        return d
    dh = np.maximum(dh, D_FLOOR * dh.max())
    return dh if d is None else np.maximum(d, dh)
