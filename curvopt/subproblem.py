"""The trust-region subproblem, solved exactly in the eigenbasis of H.

    minimize  m(p) = g'p + p'Hp / 2   subject to  ||p|| <= delta.

Nocedal & Wright (2006), Theorem 4.1 (More & Sorensen 1983): p* is a global solution iff
for some mu >= 0

    (H + mu I) p* = -g,    mu (delta - ||p*||) = 0,    H + mu I positive semidefinite.

With H = V diag(lam) V' and gt = V'g the step is p(mu) = -sum_i gt_i / (lam_i + mu) v_i
(N&W eq. 4.38), and mu solves the secular equation ||p(mu)|| = delta, for which we use the
safeguarded Newton iteration on phi(mu) = 1/delta - 1/||p(mu)|| (N&W eq. 4.39, Alg. 4.3)
inside the bracket (max(0, -lam_1), ||g|| / delta - lam_1]. The shift t = mu - max(0, -lam_1)
is the unknown, so lam_i + mu = (lam_i - lam_1) + t is computed without cancellation even
when t is tiny (the "nearly hard" case).

Hard case (N&W sec. 4.3, eq. 4.45): lam_1 < 0 and g orthogonal to the bottom eigenspace
(|V_J' g| within its error ``g_tol``) with ||p(-lam_1)|| <= delta. Then mu = -lam_1 and
p = p_rest + tau v_1 with ||p|| = delta. Both signs of tau solve the subproblem; the one
with g'v tau <= 0 is returned as ``p`` and the other as ``alt`` so the caller can try both
(a start exactly at a saddle, g = 0, escapes whichever side f descends).

Levenberg-Marquardt view: every step returned here satisfies (H + mu I) p = -g, i.e. it
is the damped Newton step with the damping mu fixed by the radius (N&W sec. 4.3; More
1978). :func:`damped_trust_region_step` computes the same step with Cholesky factors of
H + mu I instead of an eigendecomposition (More & Sorensen 1983, Alg. 3.14 without the
hard-case refinement). The solver uses it only where the eigen path is not available:
when ``eigh`` fails or H is not finite. :func:`negative_curvature_step` is the pure
step delta * v along a direction of negative curvature, used after a certificate
reports a saddle.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

__all__ = ["Step", "solve_trust_region", "negative_curvature_step",
           "damped_trust_region_step", "cauchy_step", "unscale"]

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Step:
    """A trial step and what the quadratic model predicts for it.

    Attributes
    ----------
    p : ndarray
        The step.
    kind : str
        ``"newton"`` (interior, mu = 0), ``"boundary"`` (easy case, mu > 0),
        ``"hard_case"``, ``"negative_curvature"``, ``"damped"`` or ``"cauchy"``.
    hard_case : bool
        True when the step came from the hard case (N&W sec. 4.3).
    mu : float
        The multiplier: (H + mu I) p = -g.
    predicted_reduction : float
        -(g'p + p'Hp/2).
    alt : ndarray or None
        The mirrored step (other sign along the bottom eigenvector) when both signs solve
        the subproblem or f may descend either way; else None.
    """

    p: np.ndarray
    kind: str
    hard_case: bool
    mu: float
    predicted_reduction: float
    alt: np.ndarray | None = None


def _pred(g, lam, pt, p):
    """-(g'p + p'Hp/2) with p'Hp = sum lam_i pt_i**2 (pt = V'p)."""
    return -(float(g @ p) + 0.5 * float(np.sum(lam * pt * pt)))


def _secular_root(gt, c, delta, maxiter=200):
    """Smallest t > 0 with ||gt / (c + t)|| = delta, c >= 0 (N&W Alg. 4.3, safeguarded)."""
    lo, hi = 0.0, float(np.linalg.norm(gt)) / delta
    t = hi
    for _ in range(maxiter):
        q = gt / (c + t)
        norm_p = float(np.linalg.norm(q))
        if norm_p > delta:
            lo = t
        else:
            hi = t
        if abs(norm_p - delta) <= 4 * _EPS * delta or hi - lo <= 4 * _EPS * hi:
            return t
        # Newton on phi(t) = 1/delta - 1/||p(t)||, phi' = -(sum q^2 / (c+t)) / ||p||^3:
        # t+ = t + (||p|| / delta - 1) / r with r = sum(q^2 / (c+t)) / ||p||^2, a weighted
        # mean of 1/(c+t) (written so that nothing overflows for huge ||p|| or delta)
        r = float(np.sum((q / norm_p) ** 2 / (c + t))) if norm_p > 0 else 0.0
        t_new = t + (norm_p / delta - 1.0) / r if r > 0 else -1.0
        t = t_new if lo < t_new < hi else (0.5 * (lo + hi) if lo == 0 else np.sqrt(lo * hi))
    return hi                     # not converged: the feasible side of the bracket


def solve_trust_region(g, lam, V, delta, *, g_tol=None, lam_tol=None):
    """Global solution of the trust-region subproblem in the eigenbasis of H.

    Parameters
    ----------
    g : ndarray, shape (n,)
        Gradient of the model.
    lam, V : ndarray
        Ascending eigenvalues and orthonormal eigenvectors of the symmetric H.
    delta : float
        Trust radius, > 0.
    g_tol : float, optional
        Size below which the gradient's component in the bottom eigenspace counts as zero
        (its error bound). Default: rounding level ``n * eps * ||g||``.
    lam_tol : float, optional
        Eigenvalues within ``lam_tol`` of lam_1 form the bottom eigenspace. Default: the
        eigensolver's rounding level ``n * eps * max|lam|``.

    Returns
    -------
    Step

    References
    ----------
    Nocedal & Wright (2006), Numerical Optimization, 2nd ed., sec. 4.3, Alg. 4.3;
    More & Sorensen (1983), SIAM J. Sci. Stat. Comput. 4(3), 553-572.
    """
    g, lam = np.asarray(g, float), np.asarray(lam, float)
    n = g.shape[0]
    gt = V.T @ g
    if lam_tol is None:
        lam_tol = n * _EPS * float(np.max(np.abs(lam)))
    if g_tol is None:
        g_tol = n * _EPS * float(np.linalg.norm(g))
    lam1 = float(lam[0])
    shift = max(0.0, -lam1)
    c = lam - lam1 if lam1 < 0 else lam.copy()        # lam_i + mu = c_i + t
    J = c <= lam_tol
    gJ_small = float(np.linalg.norm(gt[J])) <= g_tol
    if lam1 >= 0 or gJ_small:
        pt = np.zeros(n)
        keep = ~J if (gJ_small or lam1 < 0) else np.ones(n, bool)
        if np.all(c[keep] > 0):
            pt[keep] = -gt[keep] / c[keep]
            norm_rest = float(np.linalg.norm(pt))
            if norm_rest <= delta and lam1 >= 0:
                p = V @ pt
                return Step(p, "newton", False, 0.0, _pred(g, lam, pt, p))
            if norm_rest <= delta:                       # hard case, lam1 < 0
                return _hard_case(g, lam, V, gt, pt, delta, shift)
    if not float(np.linalg.norm(gt)) / delta > 0:       # g = 0 (or below delta's scale)
        return _hard_case(g, lam, V, gt, np.zeros(n), delta, shift)
    t = _secular_root(gt, c, delta)
    pt = -gt / (c + t)
    norm_pt = float(np.linalg.norm(pt))
    if not norm_pt > 0:                                 # g below the rounding of c + t
        return _hard_case(g, lam, V, gt, np.zeros(n), delta, shift)
    pt *= min(1.0, delta / norm_pt)                     # ||p|| <= delta to rounding
    p = V @ pt
    return Step(p, "boundary", False, shift + t, _pred(g, lam, pt, p))


def _hard_case(g, lam, V, gt, pt_rest, delta, mu):
    """p = p_rest + tau v_1, ||p|| = delta (N&W eq. 4.45); tau signed for descent."""
    tau = np.sqrt(max(delta**2 - float(pt_rest @ pt_rest), 0.0))
    sign = -1.0 if gt[0] > 0 else 1.0
    pt, pt_alt = pt_rest.copy(), pt_rest.copy()
    pt[0] += sign * tau
    pt_alt[0] -= sign * tau
    p, alt = V @ pt, V @ pt_alt
    return Step(p, "hard_case", True, mu, _pred(g, lam, pt, p), alt=alt)


def negative_curvature_step(g, H, v, delta):
    """Step of length delta along direction v, signed so that g'p <= 0.

    The mirrored step is returned as ``alt``: where g is zero within its error (an
    exact saddle) the caller tries both signs. ``mu`` is max(0, -v'Hv / v'v).
    """
    v = np.asarray(v, float) / np.linalg.norm(v)
    sign = -1.0 if float(g @ v) > 0 else 1.0
    p = sign * delta * v
    curv = float(v @ (H @ v))
    pred = -(float(g @ p) + 0.5 * curv * delta**2)
    return Step(p, "negative_curvature", False, max(0.0, -curv), pred, alt=-p)


def cauchy_step(g, H, delta):
    """The Cauchy point, N&W (2006) eq. 4.11-4.12: the model minimizer along -g."""
    gnorm = float(np.linalg.norm(g))
    if gnorm == 0:
        return Step(np.zeros_like(g, dtype=float), "cauchy", False, 0.0, 0.0)
    gHg = float(g @ (H @ g))
    tau = 1.0 if gHg <= 0 else min(gnorm**3 / (delta * gHg), 1.0)
    p = -tau * delta / gnorm * np.asarray(g, float)
    return Step(p, "cauchy", False, 0.0, -(float(g @ p) + 0.5 * float(p @ (H @ p))))


def damped_trust_region_step(g, H, delta, maxiter=60):
    """Levenberg-Marquardt form: (H + mu I) p = -g by Cholesky, mu from the radius.

    More & Sorensen (1983) Newton iteration mu <- mu + (||p|| / ||q||)^2 (||p|| - delta)
    / delta with R'q = p (N&W Alg. 4.3 with Cholesky factors in place of an
    eigendecomposition), safeguarded by bisection in [0, ||g||/delta + ||H||_F] (at the
    upper end H + mu I is PD and ||p|| <= delta). A failed factorization raises the lower
    end. No hard-case refinement; the Cauchy step is returned if it does better.
    """
    g, H = np.asarray(g, float), np.asarray(H, float)
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        return cauchy_step(g, np.zeros_like(H) if not np.all(np.isfinite(H)) else H, delta)
    lo, hi = 0.0, float(np.linalg.norm(g)) / delta + float(np.linalg.norm(H, "fro"))
    mu, best = 0.0, None
    for _ in range(maxiter):
        try:
            R = cho_factor(H + mu * np.eye(g.size), lower=False)
        except LinAlgError:
            lo, mu = mu, 0.5 * (mu + hi)
            continue
        p = -cho_solve(R, g)
        norm_p = float(np.linalg.norm(p))
        if norm_p <= delta:
            hi = mu
            best = Step(p, "damped", False, mu, -(float(g @ p) + 0.5 * float(p @ (H @ p))))
            if mu == 0 or norm_p >= delta * (1 - 1e-8):
                break
        else:
            lo = mu
        q = np.linalg.solve(R[0].T, p)
        mu_new = mu + (norm_p / np.linalg.norm(q))**2 * (norm_p - delta) / delta
        mu = mu_new if lo < mu_new < hi else 0.5 * (lo + hi)
    cauchy = cauchy_step(g, H, delta)
    if best is None or best.predicted_reduction < cauchy.predicted_reduction:
        return cauchy
    return best


def unscale(step, d):
    """The step of the scaled subproblem in q = D p (gradient D^-1 g, Hessian
    D^-1 H D^-1: same inertia, same predicted reduction; N&W 2006 sec. 4.5) mapped back
    to p = q / d; ``d`` = 1.0 (a scalar) means no scaling."""
    if np.all(np.asarray(d) == 1.0):
        return step
    return replace(step, p=step.p / d, alt=None if step.alt is None else step.alt / d)
