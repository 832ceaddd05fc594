"""Certificates at large n from products with H: Lanczos, and inertia where H is sparse.

:func:`certify_products` decides what a point is from g (with its error) and products
v -> H v (:class:`curvopt.operators.Curvature`), without an n x n matrix.

**Negative curvature** is always rigorous: a Ritz vector y of a Lanczos run with
y'Hy + err < 0 (its product recomputed with an error bound) proves lambda_min(H) < 0
(Courant-Fischer; :mod:`curvopt.lanczos`).

**A lower bound L on lambda_min** -- what "minimum" needs -- comes from one of:

* ``method="sparse"`` (deterministic): the sparse H assembled on ``hess_sparsity`` with its
  elementwise bound E: lambda_min(H*) >= lambda_min(H) - ||E||_2 (Weyl), ||E||_2 <=
  max_i sum_j E_ij (E symmetric). For n <= ``DENSE_LIMIT`` the dense certificate of
  :func:`curvopt.certificate.certify` runs on H; above, the signs of the pivots of a
  symmetric LDL^T of H - s I (SuperLU with diagonal pivots and a symmetric ordering;
  Sylvester's law of inertia) prove lambda_min(H) > s, s tried at half the smallest
  Ritz value's Rayleigh quotient, so L = s - c with c = ||E||_2 plus the backward error
  of the factorization;
* ``method="lanczos"`` (probabilistic): the Kuczynski-Wozniakowski bound for a uniform
  random start (:func:`curvopt.kw_bound.lambda_min_lower_bound`), failure probability
  ``FAILURE`` (1e-3), reported in ``failure_probability``. Finite-difference products are
  not those of one fixed matrix; the bound treats their error as a fixed symmetric
  perturbation of norm at most 2 sqrt(k) times the measured product error (stated in the
  certificate's ``evidence``).

**Stationarity** with L > 0: the model's decrease is at most (||g|| + ||g_err||)^2 / (2 L)
(the Newton decrement bound, Boyd & Vandenberghe 2004 Sec. 9.5) and its minimizer lies
within (||g|| + ||g_err||) / L: stationary when the first is below the resolution tau of f
("gain") or the second within the finite-difference reach ("location"). Not stationary
when the decrease along -g alone, (||g|| - ||g_err||)^2 / (2 (c + c_err)) with c the
curvature along g, exceeds tau. That verdict needs no L: once the smallest Ritz value
(an upper bound on lambda_min) already rules out both stationarity tests at a checkpoint,
Lanczos stops there (a not-stationary point costs a few dozen products, not n).

References
----------
Kuczynski, J. & Wozniakowski, H. (1992). SIAM J. Matrix Anal. Appl. 13(4), 1094-1122.
Parlett, B. N. (1998). The Symmetric Eigenvalue Problem. SIAM.
Boyd, S. & Vandenberghe, L. (2004). Convex Optimization. Cambridge.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from curvopt.certificate import Certificate, certify
from curvopt.fd.steps import steps_for
from curvopt.kw_bound import lambda_min_lower_bound
from curvopt.lanczos import LanczosProcess, random_start, ritz_values
from curvopt.model import LocalModel

__all__ = ["certify_products", "equilibration", "FAILURE", "DENSE_LIMIT", "lanczos_steps"]

FAILURE = 1e-3          # failure probability of a Lanczos ("probabilistic") certificate
DENSE_LIMIT = 300       # a sparse H up to this n is certified densely (eigh)
_EPS = float(np.finfo(float).eps)


def lanczos_steps(n):
    """Most Lanczos steps of a certificate: n (the whole space: deterministic) while
    n^2 <= 2e7 stored floats, else min(480, 2e7 / n)."""
    return int(n if n * n <= 20_000_000 else max(1, min(480, 20_000_000 // n)))


def certify_products(curv, f, g, g_err, tau, reach, *, sigma=0.0, gtol=None, names=None,
                     nfev=0, seed=0):
    """Certificate of the point of ``curv`` (module docstring).

    Parameters
    ----------
    curv : curvopt.operators.Curvature
        Products with H at x (and the sparse H with its bound, if assembled).
    f : float
    g, g_err : ndarray, shape (n,)
        Gradient and its elementwise bound (NaN: not estimated).
    tau : float
        Resolution of f (4 sigma).
    reach : float
        Largest distance the finite-difference stencil resolves.
    sigma : float
        Noise of f, for the product error bounds.
    gtol : float, optional
        Absolute gradient tolerance (``||g|| + ||g_err|| <= gtol`` counts as stationary).
    names : tuple, optional
    nfev : int
        Evaluations the model cost (reported).
    seed : int
        Seed of the Lanczos start vector (:func:`curvopt.lanczos.random_start`).

    Returns
    -------
    Certificate
        ``method`` ``"sparse"`` (deterministic) or ``"lanczos"`` (``failure_probability``
        FAILURE); ``lam`` holds the Ritz values.
    """
    x = curv.x
    n = x.shape[0]
    g_err = np.nan_to_num(np.asarray(g_err, dtype=np.float64), nan=np.inf)
    if curv.H is not None and curv.H_err is not None and n <= DENSE_LIMIT:
        return _dense(curv, f, g, g_err, tau, sigma, gtol, names, nfev)
    D = curv.D if curv.D is not None else equilibration(curv.diagonal(f), n)
    proc = LanczosProcess(lambda v: curv.hessp(v / D) / D, random_start(n, seed),
                          lanczos_steps(n))
    ks = checkpoints(n)
    gs, ges = float(np.linalg.norm(g / D)), float(np.linalg.norm(g_err / D))
    gn, ge, dmin = float(np.linalg.norm(g)), float(np.linalg.norm(g_err)), float(np.min(D))
    descent = None                      # the least decrease along -g, once computed
    for k in ks:
        while proc.k < k and proc.step():
            pass
        lz = proc.result()
        theta, S = ritz_values(lz.alpha, lz.beta[:-1])
        lo, hi = (_pair(curv, lz.Q.T @ S[:, i], D, sigma) for i in (0, -1))
        err = max(lo[2], hi[2])
        if curv.H is not None and curv.H_err is not None:
            L = _sparse_bound(curv.H, curv.H_err, lo[0])
            method, prob, note = "sparse", 0.0, ""
            L = L / float(np.max(D)) ** 2          # a bound for D^-1 H D^-1 (below)
            break
        m = sum(1 for j in ks if j < n)                # probabilistic checkpoints
        L, prob, note = _lanczos_bound(lz, theta, n, m, err + max(lo[3], hi[3]))
        method = "lanczos"
        if L > 0 or lo[1] + lo[2] < 0 or proc.breakdown:
            break
        if _beyond_stationary(gs + ges, lo[1] + lo[2], dmin, tau, reach) and not (
                gtol is not None and gn + ge <= gtol):
            descent = descent_gain(curv, g, gn, ge, sigma) if descent is None else descent
            if descent[0] > tau:          # not stationary whatever later steps would show
                break
    stationary, how, text = _stationarity(curv, g, g_err, gs, ges, L, dmin, tau, reach,
                                          gtol, sigma, descent)
    neg = lo[1] + lo[2] < 0
    pos = hi[1] - hi[2] > 0
    cls, text = _classify(stationary and how != "weak", stationary, L, neg, pos, lo, text)
    return Certificate(
        classification=cls, is_minimum=cls == "minimum", stationary=stationary,
        stationarity=how, f=float(f), grad_norm=gn, grad_err=ge, gtol=gtol,
        decrement=(gs + ges) ** 2 / (2 * L) if L > 0 else None,
        newton_step=(gs + ges) / (L * dmin) if L > 0 else None, resolution=tau,
        lam=theta, lam_err=err, lam_min=float(theta[0]), lam_max=float(theta[-1]),
        cond=float(theta[-1] / L) if L > 0 else np.inf, rank=n,
        negative_directions=lo[0][:, None] if neg else np.zeros((n, 0)),
        flat_directions=_undecided(cls, neg, lo[0]), flat_parameters=(),
        curvature_along_grad=None, max_descent_step=None, standard_errors=None,
        se_warning="standard errors are not formed at large n (no dense H^-1)",
        inconclusive=text, exact_hessian=curv.source == "hessp", nfev=int(nfev),
        x=x.copy(), names=names,
        inertia=(int(neg), n - int(neg) - (n if cls == "minimum" else int(pos)),
                 n if cls == "minimum" else int(pos)),
        evidence=note, method=method, failure_probability=prob,
        lam_min_bound=float(L * dmin * dmin) if np.isfinite(L) else None)


def _undecided(cls, neg, w):
    """The smallest Ritz value's direction w (unit, in x) when the certificate is
    inconclusive without negative curvature: the direction the loop probes with f
    (:mod:`curvopt.probe`); an (n, 0) array otherwise."""
    if cls == "inconclusive" and not neg:
        return w[:, None]
    return np.zeros((w.shape[0], 0))


def checkpoints(n):
    """Lanczos steps at which the certificate looks, fixed before the run (so a union
    bound over them holds): 30, 120, 480 and the last :func:`lanczos_steps`."""
    top = lanczos_steps(n)
    return sorted({min(k, top) for k in (30, 120, 480, top)})


def _lanczos_bound(lz, theta, n, m, prod_err):
    """(L, failure probability, text): a lower bound on lam_min of the operator. After
    n steps (the whole space) Weyl's bound is deterministic; else Kuczynski-Wozniakowski
    with failure probability FAILURE / m at each of m checkpoints (union bound)."""
    E = 2.0 * np.sqrt(lz.k) * prod_err
    if not np.isfinite(E):
        return -np.inf, FAILURE, "product errors not estimated: no lower bound on lam_min"
    if lz.k >= n:
        return (float(theta[0] - E), 0.0,
                f"Lanczos spanned the whole space (k = n = {n}): Ritz values are the "
                f"eigenvalues of D^-1 H D^-1 within {E:.3g} (Weyl), deterministic")
    b = lambda_min_lower_bound(theta[0], theta[-1], lz.k, n, FAILURE / m, err=E)
    return b.lower, FAILURE, (
        f"lam_min(D^-1 H D^-1) >= {b.lower:.4g} with probability >= {1 - FAILURE:g} "
        f"(Kuczynski-Wozniakowski at k = {lz.k} Lanczos steps from a seeded uniform start, "
        f"one of {m} checkpoints fixed in advance, union bound; product errors treated as "
        f"a fixed perturbation of norm <= {E:.3g}); D = sqrt(|diag H|): same inertia as H "
        f"(Sylvester)")


def equilibration(d, n):
    """D = sqrt(|diag H|) floored at 1e-8 of its largest entry (ones when diag H is not
    known): Lanczos runs on D^-1 H D^-1, which has H's inertia (Sylvester) and, for a
    badly scaled H, a far smaller spread, so the probabilistic bound certifies more."""
    if d is None:
        return np.ones(n)
    a = np.abs(np.asarray(d, dtype=np.float64))
    top = float(a.max()) if a.size else 0.0
    if not top > 0 or not np.isfinite(top):
        return np.ones(n)
    return np.sqrt(np.maximum(a, 1e-8 * top))


def _pair(curv, y, D, sigma):
    """(w, y'Ay, its bound, ||cheap - careful product||) for a unit Ritz vector y of
    A = D^-1 H D^-1, with w = D^-1 y / ||D^-1 y|| the direction in x: y'Ay = (D^-1 y)'
    H (D^-1 y), and the error of A y is at most that of H (D^-1 y) over min D."""
    y = y / np.linalg.norm(y)
    z = y / D
    Hz, err = curv.estimate(z, sigma)
    Ay = Hz / D
    rnd = 2.0 * y.size * _EPS * float(np.linalg.norm(Ay))
    gap = float(np.linalg.norm(curv.hessp(z) / D - Ay)) if curv.source != "sparse" else 0.0
    dmin = float(np.min(D))
    return z / np.linalg.norm(z), float(y @ Ay), err / dmin + rnd, gap / dmin


def _sparse_bound(H, H_err, w):
    """Deterministic lower bound on lambda_min(H*) from a sparse H and its elementwise
    bound: with E = ||H_err||_2 <= max row sum and the factorization's backward error,
    c = E + 10 n eps ||H||_1, try the shift s = max(2c, w'Hw / 2) (w: the unit direction
    of the smallest Ritz value, so w'Hw >= lambda_min): positive pivots of an LDL^T of
    H - s I prove lambda_min(H) > s, hence lambda_min(H*) > s - c. Else -inf."""
    n = H.shape[0]
    E = float(np.max(np.asarray(abs(H_err).sum(axis=1)))) if H_err.nnz else 0.0
    if not np.isfinite(E):
        return -np.inf
    normH = float(np.max(np.asarray(abs(H).sum(axis=1))))
    c = E + 10.0 * n * _EPS * normH
    for shift in sorted({max(2.0 * c, 0.5 * float(w @ (H @ w))), 2.0 * c}, reverse=True):
        if _positive_definite(sp.csc_matrix(H - shift * sp.identity(n, format="csc"))):
            return shift - c
    return -np.inf


def _positive_definite(A):
    """All pivots of a symmetric LDL^T (SuperLU, diagonal pivots, symmetric ordering)
    positive: A is positive definite (Sylvester). False when that cannot be shown."""
    try:
        lu = splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
    except RuntimeError:                   # exactly singular: no proof
        return False
    if np.any(lu.perm_r != lu.perm_c):     # not a symmetric permutation: no inertia
        return False
    return bool(np.all(lu.U.diagonal() > 0))


def _beyond_stationary(gmax, U, dmin, tau, reach):
    """Neither stationarity test can pass with any lower bound L <= U on lam_min(D^-1 H
    D^-1): U = the smallest Ritz value's Rayleigh quotient plus its error (an upper bound
    on lam_min), so gmax^2 / (2 L) >= gmax^2 / (2 U) > tau and gmax / (L dmin) > reach."""
    if not U > 0:
        return True
    return gmax * gmax / (2.0 * U) > tau and gmax / (U * dmin) > reach


def _stationarity(curv, g, g_err, gs, ges, L, dmin, tau, reach, gtol, sigma, descent=None):
    """(stationary, how, text): the decrement bound g'H^-1 g / 2 <= (||D^-1 g|| +
    ||D^-1 g_err||)^2 / (2 L) with L <= lam_min(D^-1 H D^-1), gtol, or the decrease along
    -g (module docstring; ``descent``: :func:`descent_gain`'s answer, if computed)."""
    gn, ge = float(np.linalg.norm(g)), float(np.linalg.norm(g_err))
    if not np.isfinite(ge):
        return None, "", f"gradient error not estimated; ||g|| = {gn:.3g}"
    if gtol is not None and gn + ge <= gtol:
        return True, "gtol", ""
    gmax = gs + ges
    if L > 0 and gmax * gmax / (2 * L) <= tau:
        return True, "gain", ""
    if L > 0 and gmax / (L * dmin) <= reach:
        return True, "location", ""
    gain = (descent or descent_gain(curv, g, gn, ge, sigma))[0]
    if gain > tau:
        return False, "", (f"||g|| = {gn:.3g} +- {ge:.3g}: a step along -g lowers the "
                           f"model by >= {gain:.3g} > resolution {tau:.3g}")
    if gn <= ge:
        return True, "weak", ""
    if L > 0:
        return None, "", (f"decrease bound {gmax * gmax / (2 * L):.3g} above the resolution "
                          f"{tau:.3g} and the gradient not certified nonzero")
    return None, "", f"no positive lower bound on lam_min; ||g|| = {gn:.3g} +- {ge:.3g}"


def descent_gain(curv, g, gn, ge, sigma):
    """(gain, c): the least decrease of the model along -g the evidence guarantees,
    (||g|| - ||g_err||)^2 / (2 c) with c = u'Hu + its error (u = g / ||g||, one careful
    product; inf where c <= 0), or (0, nan) when ||g|| <= ||g_err|| (no product)."""
    if not gn > ge:
        return 0.0, np.nan
    u = g / gn
    Hu, err = curv.estimate(u, sigma)
    c = float(u @ Hu) + err
    return ((gn - ge) ** 2 / (2 * c) if c > 0 else np.inf), c


def _classify(resolved, stationary, L, neg, pos, lo, text):
    """(classification, text) from the stationarity decision and the curvature evidence;
    ``resolved``: stationary by gain, location or gtol, not only "zero within its error"
    (a minimizer beyond the stencil is then possible, so no "minimum")."""
    if neg:
        if stationary and pos:
            return "saddle", ""
        what = (f"negative curvature certified (y'Hy = {lo[1]:.3g} +- {lo[2]:.3g} along a "
                "Ritz vector), so not a minimum")
        if stationary is False:
            return "not_stationary", f"{text}; {what}"
        return "inconclusive", f"{text}; {what}" if text else what
    if stationary is False:
        return "not_stationary", text
    if resolved and L > 0:
        return "minimum", ""
    if stationary:
        why = ("no positive lower bound on lam_min" if L <= 0 else
               "the gradient is zero within its error, but the model's minimizer may lie "
               "beyond the stencil")
        return "inconclusive", (f"stationary, but {why} (smallest Ritz value "
                                f"{lo[1]:.3g} +- {lo[2]:.3g})")
    return "inconclusive", text


def _dense(curv, f, g, g_err, tau, sigma, gtol, names, nfev):
    """The dense certificate on the assembled sparse H (n <= DENSE_LIMIT)."""
    n = curv.x.shape[0]
    model = LocalModel(x=curv.x, f=float(f), g=np.asarray(g, float), H=curv.H.toarray(),
                       g_err=np.where(np.isfinite(g_err), g_err, np.nan),
                       H_err=curv.H_err.toarray(), f_noise=max(sigma, tau / 4.0),
                       nfev=int(nfev), eps_x=float(np.finfo(curv.x.dtype).eps),
                       step=steps_for(curv.x, curv.rel, "hessian"))   # the stencil's reach
    cert = certify(model, gtol=gtol, names=names)
    return replace(cert, method="sparse", lam_min_bound=float(cert.lam_min - cert.lam_err)
                   if n else None)
