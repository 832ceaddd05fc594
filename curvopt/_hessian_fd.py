"""Hessian stencil with error bounds: the machinery under :func:`curvopt.differentiate.hessian`.

The mathematics (steps, Richardson truncation, rounding terms, safety factors S_T and K)
is stated in :mod:`curvopt.differentiate`; this module holds the shared constants, the
noise and step helpers, the 2n^2 stencil, the elementwise bounds, and the smoothness
check of f at the step scale (see :func:`smoothness_sigma`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from curvopt._onesided import one_sided
from curvopt._stencils import (NO_STEPS, combine_hessian, fused_views, representable,
                               step_sizes)
from curvopt.noise import noise_level
from curvopt.objective import NonFiniteError

S_TRUNC = 3.0     # safety factor on the Richardson truncation estimate
K_NOISE = 8.0     # noise standard deviations covered by the rounding term
EPS64 = float(np.finfo(np.float64).eps)


# -- steps and noise -----------------------------------------------------------------
def base_value(obj, x, f0=None):
    """f(x), evaluated unless given; NonFiniteError (a ValueError) naming x if not finite."""
    f0 = obj.f(x) if f0 is None else float(f0)
    if not np.isfinite(f0):
        raise NonFiniteError(f"f(x) = {f0} is not finite at the base point x = {x}")
    return f0


def noise_sigma(obj, x, f0, noise=None, estimate=True):
    """(sigma, eps_f): absolute noise of f and the relative noise that sets the steps.

    ``noise`` given: sigma = noise.  ``estimate``: ECnoise at x.  Otherwise the relative
    levels of an earlier estimate stored on ``obj.noise`` are reused, or f_eps alone.
    """
    floor = obj.f_eps * abs(f0)
    if noise is None and estimate:
        est = noise_level(obj, x, f0=f0)
        return est.sigma, est.step_rel
    prev = obj.noise
    if noise is not None:
        sigma = max(float(noise), floor)
        if prev is not None and np.isfinite(prev.curv):
            return sigma, max(obj.f_eps, sigma / prev.curv)
        return sigma, max(obj.f_eps, sigma / max(abs(f0), 1.0))
    if prev is not None:
        return max(prev.rel * max(abs(f0), 1.0), floor), prev.step_rel
    return floor, obj.f_eps


def step_term(D, x, h, eps_x):
    """Error from the rounded backward points x - h and the combine arithmetic."""
    return np.abs(D) * (2.0 * eps_x * np.abs(x) / h + 8.0 * EPS64)


# -- Hessian stencil -----------------------------------------------------------------
def _check_finite(x, *arrays):
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise NonFiniteError(
                f"f is not finite at a finite-difference stencil point near x = {x}; "
                "use a smaller step or an objective defined in a neighbourhood of x")


def hess_stencil(obj, x, f0, h=None, c=0.0):
    """One 2n^2-evaluation stencil: (H, g, h, h2, fmax, onesided).

    Target steps ``h``, or c max(1, |x_i|) when h is None.  A jit objective runs it all
    in one compiled call (:meth:`curvopt.objective.Objective.hess_fused`).  Entries whose
    central formula meets a non-finite value are recomputed one-sided
    (:func:`curvopt._onesided.one_sided`, a few extra evaluations); ``onesided`` marks
    them (None when there are none).  NonFiniteError when no one-sided formula is finite.
    """
    out = obj.hess_fused(x, float(f0), float(c), NO_STEPS if h is None else h)
    if out is not None:
        H, buf = out
        n = x.shape[0]
        g, h, h2, fmax = buf[7:7 + n], buf[7 + n:7 + 2 * n], buf[7 + 2 * n:7 + 3 * n], buf[1]
        if buf[2] == 0.0:
            return H, g, h, h2, float(fmax), None
        _, g, aux, F = fused_views(buf, n)
        xp, xm, xp2, xm2 = (aux[r].astype(obj.dtype) for r in range(2, 6))
        fp2, fm2 = aux[6], aux[7]
    else:
        h = c * np.maximum(1.0, np.abs(x.astype(np.float64))) if h is None else h
        h, xp, xm = representable(x, h)
        h2, xp2, xm2 = representable(x, 2.0 * h)
        fp2, fm2, F, fmax, nbad = obj.hess_values(x, xp, xm, xp2, xm2, f0)
        H, g = combine_hessian(float(f0), fp2, fm2, F[0], F[1], F[2], F[3], h, h2)
        if not nbad:
            return H, g, h, h2, fmax, None
    onesided = one_sided(f0, fp2, fm2, F, H, g, x, xp, xm, xp2, xm2, obj.f_many)
    if onesided is None:
        raise NonFiniteError(
            f"f is not finite on both sides of a finite-difference stencil near x = {x}: "
            "no one-sided formula applies; use a smaller step")
    return H, g, h, h2, fmax, onesided


@njit(cache=True)
def _bound1(D, D2, rnd, rnd2, stp, onesided):  # pragma: no cover - jit
    """One entry: the estimate (D at h or D2 at 2h) with the smaller bound, and that bound.

    Richardson for an order-2 formula: err(D) ~ |D - D2|/3 and err(D2) ~ 4|D - D2|/3.
    One-sided entries (order 1, |weights| 4x larger) keep D with |D - D2| + 4 rnd.
    """
    t = S_TRUNC * abs(D - D2) / 3.0
    b1, b2 = t + rnd + stp, 4.0 * t + rnd2 + stp
    if onesided:
        return D, 3.0 * t + 4.0 * rnd + stp
    return (D2, b2) if b2 < b1 else (D, b1)


@njit(cache=True)
def _bounds_kernel(H, H2, g, g2, h, h2, x, sigma, eps_x, onesided):  # pragma: no cover - jit
    """(H, H_err, g, g_err) of :func:`hess_bounds`, entry by entry."""
    n = h.shape[0]
    He, Hb, ge, gb = np.empty((n, n)), np.empty((n, n)), np.empty(n), np.empty(n)
    ks = K_NOISE * sigma
    for i in range(n):
        xi = abs(np.float64(x[i])) / h[i]
        for j in range(n):
            rnd = ks / (h[i] * h[j]) if i != j else 4.0 * K_NOISE * sigma / (h2[i] * h2[i])
            m = max(abs(H[i, j]), abs(H2[i, j]))
            stp = m * (4.0 * eps_x * (xi + abs(np.float64(x[j])) / h[j]) + 8.0 * EPS64)
            He[i, j], Hb[i, j] = _bound1(H[i, j], H2[i, j], rnd, rnd / 4.0, stp,
                                         onesided[i, j])
        stp = max(abs(g[i]), abs(g2[i])) * (2.0 * (2.0 * eps_x) * abs(np.float64(x[i])) / h2[i]
                                            + 8.0 * EPS64)
        ge[i], gb[i] = _bound1(g[i], g2[i], ks / h2[i], ks / (2.0 * h2[i]), stp,
                               onesided[i, i])
    return He, Hb, ge, gb


def hess_bounds(obj, x, H, g, H2, g2, h, h2, sigma, onesided=None):
    """Estimates and elementwise bounds (H, H_err, g, g_err) from stencils at h and 2h.

    Each entry is taken from the step whose bound is smaller (the larger step wins when
    rounding dominates); H stays symmetric because both stencils are.  Rounding terms
    K sigma / (h_i h_j) (diagonal 4 K sigma / h2_i^2), step terms as in :func:`step_term`.
    """
    n, c = h.shape[0], np.ascontiguousarray
    mask = np.zeros((n, n), dtype=np.bool_) if onesided is None else c(onesided)
    return _bounds_kernel(c(H), c(H2), c(g), c(g2), c(h), c(h2), x, float(sigma),
                          float(np.finfo(obj.dtype).eps), mask)


@dataclass(frozen=True)
class FDHessian:
    """Result of :func:`hessian_fd`: estimates, elementwise bounds (NaN when not
    estimated), steps h, the noise level sigma used in the bounds and the smoothness flag."""

    H: np.ndarray
    g: np.ndarray
    H_err: np.ndarray
    g_err: np.ndarray
    h: np.ndarray
    sigma: float
    smooth: bool = True


def jump_sigma(obj, x, f0, h, g2, d2, g4, d4, skip=None):
    """Noise amplitude implied by three steps h, 2h, 4h on the axes (2n evaluations).

    With D_k = D + c (k h)^2 + e_k (order-2 truncation, |e_k| <= w_k s for values
    perturbed by at most s), the truncation cancels in 4(D_1 - D_2) - (D_2 - D_4) =
    4 e_1 - 5 e_2 + e_4 (+ 180 c' h^4), so s >= |4 a - b| / (4 w_1 + 5 w_2 + w_4) with
    w_k = 1/(k h) for the central gradient and 4/(k h)^2 for the diagonal.  For a smooth
    f this is O(sigma + h^5); a kink or jump of f at the step scale (e.g. a clamped log)
    makes it of the size of the jump.  The step terms of x -+ h are subtracted first,
    and an axis counts only when |4 a - b| > |b| (b = D_2 - D_4): a smooth f far from the
    asymptotic regime (h^4 terms dominant) gives a/b ~ 1/16, i.e. |4 a - b| ~ 0.75 |b|,
    while a jump or kink at the step scale gives |a| >~ |b| (finer steps see it more).
    Axes in ``skip`` (one-sided entries) and with non-finite values are left out.

    Returns (s, fmax): the largest implied amplitude and max |f| over the new values.
    """
    h, xp, xm = representable(x, h)
    fp, fm = obj.axis_values(x, xp, xm)
    skip = np.zeros(h.shape[0], dtype=np.bool_) if skip is None else skip
    c = np.ascontiguousarray
    s, fmax = _jump_kernel(c(fp), c(fm), float(f0), h, c(g2), c(d2), c(g4), c(d4), c(skip), x,
                           2.0 * float(np.finfo(obj.dtype).eps))
    return float(s), float(fmax)


@njit(cache=True)
def _jump_kernel(fp, fm, f0, h, g2, d2, g4, d4, skip, x, eps_x):  # pragma: no cover - jit
    """(s, fmax) of :func:`jump_sigma`, entry by entry (non-finite amplitudes ignored)."""
    s, fmax, any_ok = 0.0, abs(f0), False
    for i in range(h.shape[0]):
        for v in (fp[i], fm[i]):
            if np.isfinite(v):
                fmax = max(fmax, abs(v))
        g1 = (fp[i] - fm[i]) / (2.0 * h[i])
        d1 = ((fp[i] - f0) + (fm[i] - f0)) / (h[i] * h[i])
        if not (np.isfinite(g1) and np.isfinite(d1)) or skip[i]:
            continue
        any_ok, xa = True, abs(np.float64(x[i]))
        for kind in range(2):
            D1, D2, D4 = (g1, g2[i], g4[i]) if kind == 0 else (d1, d2[i], d4[i])
            w = 6.75 / h[i] if kind == 0 else 21.25 / (h[i] * h[i])
            stp = 0.0                 # step terms of x -+ k h, as in step_term
            for c, D, k in ((4.0, D1, 1.0), (5.0, D2, 2.0), (1.0, D4, 4.0)):
                stp += c * (abs(D) * (2.0 * eps_x * xa / (k * h[i]) + 8.0 * EPS64))
            b = abs(D2 - D4)
            r = abs(4.0 * (D1 - D2) - (D2 - D4)) - stp
            v = (r if r > b else 0.0) / w
            s = v if v > s else s
    return s, (fmax if any_ok else abs(f0))


def hessian_fd(obj, x, f0, sigma, rel, *, errors=True, step=None, rel_step=None):
    """Function-values-only Hessian at x: 2n^2 + 1 evaluations, 4n^2 + 2n + 1 with errors.

    With errors, :func:`jump_sigma` checks that f is smooth at the step scale (2n
    values at step h besides the stencils at h and 2h); when the noise amplitude it
    implies exceeds K sigma_eff, the observed differences are not those of a smooth f
    plus noise sigma: sigma_eff is raised to that amplitude (all rounding terms grow)
    and ``smooth`` is False.

    Returns
    -------
    FDHessian
    """
    c = float(rel) ** 0.25
    if step is None and rel_step is None and 0.0 < c < np.inf:
        H, g, h, h2, fmax, mask = hess_stencil(obj, x, f0, None, c)
    else:
        H, g, h, h2, fmax, mask = hess_stencil(obj, x, f0, step_sizes(x, 0.25, rel, step,
                                                                       rel_step))
    if not errors:
        return FDHessian(H, g, H + np.nan, g + np.nan, h, float(sigma))
    H2, g2, _, _, fmax2, mask2 = hess_stencil(obj, x, f0, 2.0 * h)
    if mask is not None or mask2 is not None:
        mask = (False if mask is None else mask) | (False if mask2 is None else mask2)
    skip = None if mask is None else np.diag(mask).copy()
    s_jump, fmax3 = jump_sigma(obj, x, f0, h, g, np.diag(H).copy(), g2, np.diag(H2).copy(),
                               skip)
    sigma_eff = max(sigma, obj.f_eps * max(fmax, fmax2, fmax3))
    smooth = not s_jump > K_NOISE * sigma_eff
    sigma_eff = max(sigma_eff, s_jump) if not smooth else sigma_eff
    H, H_err, g, g_err = hess_bounds(obj, x, H, g, H2, g2, h, h2, sigma_eff, mask)
    return FDHessian(H, g, H_err, g_err, h, float(sigma_eff), smooth)
