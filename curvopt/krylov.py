"""Matrix-free trust-region subproblem solvers: Steihaug-Toint CG and GLTR (Lanczos).

Both minimize the model m(p) = g'p + p'Hp/2 subject to ||p|| <= delta seeing H only
through ``hessp: v -> H v``, count the products and return the
:class:`curvopt.subproblem.Step` record plus an info record.

* :func:`steihaug_cg` (Steihaug 1983, Toint 1981; Nocedal & Wright 2006 Alg. 7.2): CG
  from p = 0, truncated at the boundary or at the first direction of non-positive
  curvature, or when ||r_j|| <= min(0.5, sqrt(||g||)) ||g|| (N&W eq. 7.3). Cheap, at
  least the Cauchy decrease, but not the global solution when H is indefinite.
* :func:`gltr` (Gould, Lucidi, Roma & Toint 1999): Lanczos from g builds T_k and the
  subproblem restricted to the Krylov space, min ||g|| e1'h + h'T_k h/2, ||h|| <= delta
  ([GLRT]), is solved exactly on the small tridiagonal by the secular equation on
  its eigendecomposition (:func:`curvopt.subproblem.solve_trust_region`). Stop when the
  KKT residual ||(H + mu I)p + g|| = beta_{k+1} |e_k'h| ([GLRT]) is small;
  p = Q_k' h. The hard case, which no Krylov space of g can see, is handled by a second,
  random-start Lanczos run (see :func:`gltr`).

References
----------
.. [GLRT] Gould, N. I. M., Lucidi, S., Roma, M. & Toint, Ph. L. (1999). Solving the
   trust-region subproblem using the Lanczos method. SIAM J. Optim. 9(2), 504-525.
.. [NW] Nocedal, J. & Wright, S. J. (2006). Numerical Optimization, 2nd ed. Springer.
.. [S83] Steihaug, T. (1983). The conjugate gradient method and trust regions in large
   scale optimization. SIAM J. Numer. Anal. 20(3), 626-637.
.. [T81] Toint, Ph. L. (1981). Towards an efficient sparsity exploiting Newton method for
   minimization. In Sparse Matrices and Their Uses, Academic Press, 57-88.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.lanczos import (LanczosProcess, RitzPair, _as_vector, apply_hessp, lanczos,
                             random_start, ritz_pair, ritz_values)
from curvopt.subproblem import Step, solve_trust_region

__all__ = ["CGInfo", "GLTRInfo", "steihaug_cg", "gltr"]

_EPS = np.finfo(float).eps


def _check(hessp, g, delta):
    """Validated (g, delta); TypeError for a non-callable hessp."""
    if not callable(hessp):
        raise TypeError("hessp must be callable: v -> H v")
    g = _as_vector(g, "g")
    delta = float(delta)
    if not (delta > 0 and np.isfinite(delta)):
        raise ValueError(f"delta must be a finite number > 0, got {delta!r}")
    return g, delta


def _count(x, name, lo, hi, default):
    if x is None:
        return default
    if isinstance(x, bool) or int(x) != x or not lo <= x <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {x!r}")
    return int(x)


def _rtol(rtol, gnorm):
    """Relative residual tolerance; default N&W eq. 7.3, min(0.5, sqrt(||g||))."""
    if rtol is None:
        return min(0.5, np.sqrt(gnorm))
    rtol = float(rtol)
    if not (rtol >= 0 and np.isfinite(rtol)):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    return rtol


def _boundary_taus(z, d, delta):
    """Both roots tau_- <= 0 <= tau_+ of ||z + tau d|| = delta (needs ||z|| <= delta)."""
    dd, zd = float(d @ d), float(z @ d)
    c = max(delta * delta - float(z @ z), 0.0)
    disc = np.sqrt(zd * zd + dd * c)
    q = -(zd + np.copysign(disc, zd))                  # no cancellation
    r1, r2 = q / dd, (-c / q if q != 0 else 0.0)
    return min(r1, r2), max(r1, r2)


@dataclass(frozen=True)
class CGInfo:
    """What :func:`steihaug_cg` did.

    Attributes
    ----------
    exit : str
        ``"converged"`` (residual rule), ``"boundary"``, ``"negative_curvature"``,
        ``"maxiter"`` or ``"zero_gradient"``.
    niter : int
        CG iterations.
    nprod : int
        Hessian-vector products (one per iteration).
    residual : float
        ||H z + g|| by the CG recurrence at the last interior iterate z.
    d : ndarray or None
        At the negative-curvature exit: the CG direction with d'Hd <= 0 (for saddle
        escape); else None.
    curvature : float
        d'Hd / d'd at that exit (<= 0), NaN otherwise.
    """

    exit: str
    niter: int
    nprod: int
    residual: float
    d: np.ndarray | None = None
    curvature: float = float("nan")


def steihaug_cg(hessp, g, delta, *, rtol=None, maxiter=None):
    """Steihaug-Toint truncated conjugate gradients ([NW] Alg. 7.2; [S83]; [T81]).

    Parameters
    ----------
    hessp : callable
        ``v -> H v``, H symmetric.
    g : array_like, shape (n,)
        Model gradient.
    delta : float
        Trust radius, > 0.
    rtol : float, optional
        Stop when ||r_j|| = ||H z_j + g|| <= rtol ||g||. Default min(0.5, sqrt(||g||)),
        the superlinear forcing sequence of [NW] eq. 7.3.
    maxiter : int, optional
        Iterations (= products). Default n (CG terminates in n steps in exact arithmetic).

    Returns
    -------
    step : Step
        ``kind`` is ``"newton"`` (interior: converged, maxiter or g = 0; mu = 0),
        ``"boundary"`` or ``"negative_curvature"`` (mu = NaN: truncated CG computes no
        multiplier). ``predicted_reduction`` = -m(p) from the CG recurrences, no extra
        products: m(z_{j+1}) = m(z_j) + a d'r + a^2 d'Hd/2.
    info : CGInfo

    Notes
    -----
    The first iterate is the Cauchy point (or the boundary point along -g), and m decreases
    monotonically along the CG path while ||z_j|| increases ([S83]; [NW] Sec. 7.1), so
    the decrease is at least the Cauchy decrease. At d'Hd <= 0 the step goes
    to the boundary along d, with the sign of tau that gives the lower model value.
    """
    g, delta = _check(hessp, g, delta)
    n = g.size
    maxiter = _count(maxiter, "maxiter", 1, np.inf, n)
    gnorm = float(np.linalg.norm(g))
    if gnorm == 0:
        return (Step(np.zeros(n), "newton", False, 0.0, 0.0),
                CGInfo("zero_gradient", 0, 0, 0.0))
    tol = _rtol(rtol, gnorm) * gnorm
    z, r = np.zeros(n), g.copy()
    d = -r
    rr, mz = gnorm * gnorm, 0.0                          # r'r, m(z)
    for j in range(maxiter):
        Hd = apply_hessp(hessp, d)
        dHd, dr = float(d @ Hd), float(d @ r)
        if dHd <= 0:                                    # negative curvature: boundary along d
            taus = _boundary_taus(z, d, delta)
            models = [tau * dr + 0.5 * tau * tau * dHd for tau in taus]
            i = int(np.argmin(models))
            p = z + taus[i] * d
            return (Step(p, "negative_curvature", False, np.nan, -(mz + models[i])),
                    CGInfo("negative_curvature", j + 1, j + 1, np.sqrt(rr), d.copy(),
                           dHd / float(d @ d)))
        a = rr / dHd
        z_new = z + a * d
        if np.linalg.norm(z_new) >= delta:               # crosses the boundary
            tau = _boundary_taus(z, d, delta)[1]
            p = z + tau * d
            m = mz + tau * dr + 0.5 * tau * tau * dHd
            return (Step(p, "boundary", False, np.nan, -m),
                    CGInfo("boundary", j + 1, j + 1, np.sqrt(rr)))
        mz += a * dr + 0.5 * a * a * dHd
        z = z_new
        r = r + a * Hd
        rr_new = float(r @ r)
        if np.sqrt(rr_new) <= tol:
            return (Step(z, "newton", False, 0.0, -mz),
                    CGInfo("converged", j + 1, j + 1, np.sqrt(rr_new)))
        d = -r + (rr_new / rr) * d
        rr = rr_new
    return (Step(z, "newton", False, 0.0, -mz),
            CGInfo("maxiter", maxiter, maxiter, np.sqrt(rr)))


@dataclass(frozen=True)
class GLTRInfo:
    """What :func:`gltr` did.

    Attributes
    ----------
    exit : str
        ``"converged"`` (beta_{k+1} |h_k| <= rtol ||g||), ``"invariant"`` (Lanczos from g
        found an invariant subspace: that part is 0), ``"maxiter"`` or ``"zero_gradient"``.
    niter : int
        Lanczos steps from g.
    nprod : int
        All products: Lanczos from g, the random-start run and its explicit residual.
    kkt_residual : float
        ||(H + mu I) p + g|| from stored quantities: beta_{k+1} |e_k'h|, or in the hard
        case ||beta_{k+1} h_k q_{k+1} + tau (H v - theta v)|| (exact-arithmetic identities;
        forming p adds rounding of order n eps (||g|| + (||H|| + mu) ||p||)).
    theta : ndarray
        Ritz values of T_k (Krylov space of g), ascending.
    ritz_min : RitzPair or None
        Smallest Ritz pair of the random-start run (explicit residual and Rayleigh
        quotient); None when ``ritz_steps = 0``.
    ritz_theta_max : float
        Largest Ritz value of that run (for the spread in
        :func:`curvopt.kw_bound.lambda_min_lower_bound`); NaN when not run.
    ritz_k : int
        Steps of that run (its k for :func:`curvopt.kw_bound.kw_epsilon`); 0 when not run.
    negative_curvature : bool
        Negative curvature found beyond rounding and the product error: the random-start
        Ritz pair proves it (``ritz_min.proves_negative_curvature``) or T_k of the Krylov
        space of g has a Ritz value below -8 k eps max|theta|. False means none was found
        (not that none exists: see :mod:`curvopt.kw_bound` for what k steps can miss).
    """

    exit: str
    niter: int
    nprod: int
    kkt_residual: float
    theta: np.ndarray
    ritz_min: RitzPair | None
    ritz_theta_max: float
    ritz_k: int
    negative_curvature: bool


def _small_model(gnorm, lam, S, h):
    """m(Q'h) = ||g|| h_1 + h'T h / 2 from the eigendecomposition T = S diag(lam) S'."""
    ht = S.T @ h
    return gnorm * float(h[0]) + 0.5 * float(np.sum(lam * ht * ht))


def _restricted(lam, S, gnorm, delta, mu_fix):
    """Solution h on K_k(g) from T_k = S diag(lam) S'.

    With ``mu_fix`` (hard case): h = -(T_k + mu_fix I)^{-1} ||g|| e1, returned as
    ``(None, h)`` when T_k + mu_fix I is positive definite and ||h|| <= delta. Otherwise
    the exact restricted trust-region solution ([GLRT]): ``(small_step, h)``.
    """
    if mu_fix is not None:
        c = lam + mu_fix
        if np.all(c > 0):
            h = -S @ (gnorm * S[0, :] / c)
            if np.linalg.norm(h) <= delta:
                return None, h
    e1 = np.zeros(lam.size)
    e1[0] = gnorm
    small = solve_trust_region(e1, lam, S, delta)        # secular equation on T_k
    return small, small.p


def _hard_case(g, proc, lam, S, pair, delta, h):
    """Hard-case step ([NW] eq. 4.45): p = Q'h + tau v, ||p|| = delta, mu = -theta.

    ``h`` solves (T_k + mu I) h = -||g|| e1 (see :func:`_restricted`), (theta, v) is the
    random-start Ritz pair with its stored product H v. In the exact hard case v_1 is
    orthogonal to every Krylov space of g; in floating point K_k(g) picks up a rounding-
    level component of v_1 that Lanczos amplifies, so v is *not* projected out of K_k
    (that would spoil its residual): tau is a root of ||Q'h + tau v|| = delta. The two
    roots (opposite signs) both solve the subproblem when g'v = 0 and p_rest'Hv = 0;
    ``p`` gets the root with the lower model value, ``alt`` the other, as in
    :func:`curvopt.subproblem.solve_trust_region`. m(p) and the KKT residual
    (H + mu I) p + g = beta_{k+1} h_k q_{k+1} + tau (H v - theta v) come from stored
    quantities (Lanczos relation H Q' = Q'T + beta_{k+1} q_{k+1} e_k'), no new products.
    """
    gnorm, mu = float(np.linalg.norm(g)), -pair.theta
    ny = float(np.linalg.norm(pair.y))
    v, Hv = pair.y / ny, pair.Hy / ny
    p_rest = proc.Q.T @ h
    taus = _boundary_taus(p_rest, v, delta)
    lin, curv = float(g @ v) + float(p_rest @ Hv), float(v @ Hv)
    models = [_small_model(gnorm, lam, S, h) + t * lin + 0.5 * t * t * curv for t in taus]
    i = int(np.argmin(models))
    res = taus[i] * (Hv + mu * v)                       # (H + mu I) p + g
    if proc.q_next is not None:
        res += proc.beta_next * h[-1] * proc.q_next
    return (Step(p_rest + taus[i] * v, "hard_case", True, mu, -models[i],
                 alt=p_rest + taus[1 - i] * v), float(np.linalg.norm(res)))


def gltr(hessp, g, delta, *, rtol=None, maxiter=None, ritz_steps=None, seed=0,
         err=0.0, breakdown_tol=None):
    """GLTR: the trust-region subproblem on growing Krylov spaces of g ([GLRT]).

    Parameters
    ----------
    hessp, g, delta
        As :func:`steihaug_cg` (products with symmetric H, model gradient, radius > 0).
    rtol : float, optional
        Stop when the KKT residual beta_{k+1} |e_k'h| <= rtol ||g||. Default
        min(0.5, sqrt(||g||)) ([NW] eq. 7.3). With H + mu I PSD the model value is then
        within 2 rtol ||g|| delta of the optimum (p solves the problem for g - e,
        ||e|| <= rtol ||g||).
    maxiter : int, optional
        Lanczos steps from g (the basis is stored: maxiter x n floats). Default min(n, 200).
    ritz_steps : int, optional
        Steps of the second Lanczos run from :func:`curvopt.lanczos.random_start` (seed
        ``seed``), used for the hard case, for g = 0, and as evidence for the certificate
        (its k for the Kuczynski-Wozniakowski bound: fixed, not adaptive). Default
        min(n, 30); 0 disables it (then the hard case and g = 0 go undetected).
    seed : int
        Seed of the random start.
    err : float
        Product error bound passed to :func:`curvopt.lanczos.ritz_pair`.
    breakdown_tol : float, optional
        See :func:`curvopt.lanczos.lanczos`.

    Returns
    -------
    step : Step
        ``kind``: ``"newton"`` (mu = 0), ``"boundary"`` or ``"hard_case"`` (with ``alt``).
        At g = 0: ``delta v`` with ``alt = -p`` (kind ``"hard_case"``, mu = -theta) when
        the smallest Ritz value theta is negative beyond its error
        (``ritz_min.proves_negative_curvature``), else a zero ``"newton"`` step.
    info : GLTRInfo

    Notes
    -----
    Hard case. The Krylov space K_k(H, g) contains only eigen-directions along which g
    has a component. When g is orthogonal to the bottom eigenvector v_1 (lambda_1 < 0)
    and ||(H - lambda_1 I)^+ g|| <= delta, the global solution needs mu = -lambda_1 and
    a component along v_1 (N&W eq. 4.45), which no Krylov space of g contains: Lanczos
    from g converges to a KKT point of the restricted problem with mu < -lambda_1 (H + mu I
    indefinite), a non-global solution. The only remedy from products alone is to look
    elsewhere: a Lanczos run from a random start finds (theta, v) ~ (lambda_1, v_1). If
    its Rayleigh quotient proves v'(H + mu I)v < 0 (``lambda_min_upper < -mu``), the
    Krylov solution is not global: mu is then held at -theta, the iteration from g goes
    on with (T_k + mu I) h = -||g|| e1 until beta_{k+1}|h_k| is small, and p = Q'h +
    tau v (``alt`` the other root) replaces the Krylov solution when its model value is
    lower. If T_k + mu I stops being positive definite (rounding lets Lanczos find v_1
    after all) the exact restricted solve takes over again. The same run serves g = 0
    (a start exactly at a saddle), where the Krylov space of g is empty.
    """
    g, delta = _check(hessp, g, delta)
    n = g.size
    maxiter = _count(maxiter, "maxiter", 1, np.inf, min(n, 200))
    ritz_steps = _count(ritz_steps, "ritz_steps", 0, n, min(n, 30))
    gnorm = float(np.linalg.norm(g))
    pair, theta_max, nprod = None, np.nan, 0
    if ritz_steps > 0:                                  # random-start run (hard case, g = 0)
        lz = lanczos(hessp, random_start(n, seed), ritz_steps, breakdown_tol=breakdown_tol)
        pair = ritz_pair(hessp, lz, 0, err=err)
        theta_max = float(ritz_values(lz.alpha, lz.beta[:-1])[0][-1])
        nprod = lz.nprod + 1
    extra = dict(ritz_min=pair, ritz_theta_max=theta_max, ritz_k=nprod - 1 if nprod else 0)
    if gnorm == 0:                                      # at a stationary point: p = delta v
        neg = bool(pair is not None and pair.proves_negative_curvature)
        p = delta * pair.y / np.linalg.norm(pair.y) if neg else np.zeros(n)
        step = (Step(p, "hard_case", True, -pair.theta, -0.5 * pair.rayleigh * delta**2,
                     alt=-p) if neg else Step(p, "newton", False, 0.0, 0.0))
        return step, GLTRInfo("zero_gradient", 0, nprod, delta * pair.resid if neg else 0.0,
                              np.empty(0), negative_curvature=neg, **extra)
    tol = _rtol(rtol, gnorm) * gnorm
    proc = LanczosProcess(hessp, g / gnorm, maxiter, breakdown_tol)
    mu_fix = None                     # hard case: mu held at -theta while h converges
    while True:
        proc.step()
        lam, S = ritz_values(proc.alpha, proc.beta[:-1])
        small, h = _restricted(lam, S, gnorm, delta, mu_fix)
        mu_fix = None if small is not None else mu_fix
        kkt = proc.beta_next * abs(float(h[-1]))        # (H + mu I)Q'h + g = beta q e_k'h
        last = proc.breakdown or proc.k >= maxiter
        if ((kkt <= tol or last) and small is not None and pair is not None
                and pair.lambda_min_upper < -small.mu):
            # Done on K_k(g), but v'(H + mu I) v < 0: not the global solution. Hold
            # mu = -theta and keep iterating on (T_k + mu I) h = -||g|| e1 (hard case).
            small2, h2 = _restricted(lam, S, gnorm, delta, -pair.theta)
            if small2 is None:
                mu_fix, h = -pair.theta, h2
                kkt = proc.beta_next * abs(float(h[-1]))
        if kkt <= tol or last:
            break
    if small is None:                                   # the restricted solution, to compare
        small = _restricted(lam, S, gnorm, delta, None)[0]
    Q = proc.Q
    step = Step(Q.T @ small.p, small.kind, small.hard_case, small.mu,
                -_small_model(gnorm, lam, S, small.p),
                alt=None if small.alt is None else Q.T @ small.alt)
    kkt = krylov_res = proc.beta_next * abs(float(small.p[-1]))
    hard = None if mu_fix is None else _hard_case(g, proc, lam, S, pair, delta, h)
    if hard is not None and hard[0].predicted_reduction >= step.predicted_reduction:
        (step, kkt), krylov_res = hard, proc.beta_next * abs(float(h[-1]))
    exit = "invariant" if proc.breakdown else "converged" if krylov_res <= tol else "maxiter"
    floor = 8 * proc.k * _EPS * float(np.max(np.abs(lam)))  # T_k = Q H Q' to rounding
    neg = bool(lam[0] < -floor or (pair is not None and pair.proves_negative_curvature))
    return step, GLTRInfo(exit, proc.k, proc.nprod + nprod, kkt, lam,
                          negative_curvature=neg, **extra)
