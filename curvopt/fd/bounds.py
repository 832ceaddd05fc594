"""Error bounds of finite differences: truncation, rounding, the steps, smoothness.

For an estimate D_h of order p (p = 2 central, p = 1 forward) with a second estimate
D_2h at twice the steps, the elementwise bound is

    E = S_T |D_h - D_2h| / (2^p - 1)          truncation (Richardson [3])
      + K sigma c / (h_i h_j)                 rounding of f (c / h_i for a gradient)
      + |D| (2 eps_x (|x_i|/h_i + |x_j|/h_j) + 8 eps)   the rounded points x -+ h, the combine

S_T = 3 is a safety factor on the Richardson estimate, whose ratio to the true error
drifts once higher-order terms matter; K = 8 noise standard deviations, since ECnoise
estimates sigma from a handful of differences (it can be 2x low) and the bound must cover
the worst of O(n^2) stencil values; sigma = max(noise of f, f_eps max |f| over the
stencil), which keeps the bound honest where rounding grows with |f(x +- h)| (a quadratic
near its zero minimum). The rounding coefficient c is the sum of |stencil weights| times
h_i h_j: 1 for the cross and +-2h diagonal formulas, 1 for a central gradient, 2 for a
forward one. A Hessian entry is reported from the step whose bound is smaller (D_h, or
D_2h with truncation 4 S_T |D_h - D_2h| / 3 and a 4x smaller rounding term).

Smoothness at the step scale (:func:`jump_amplitude`): Richardson assumes
D_h = D + c h^2 + noise. With a third step on the axes (D at h, 2h, 4h) the h^2 term
cancels in 4(D_h - D_2h) - (D_2h - D_4h), which then measures the noise alone; when the
amplitude it implies exceeds K sigma, f is not smooth at the step scale (a kink, a jump,
a clamped log, float32 staircases): the caller raises sigma to that amplitude.

References
----------
.. [1] J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006, ch. 8.
.. [2] J. J. More and S. M. Wild, "Estimating derivatives of noisy simulations",
   ACM Trans. Math. Softw. 38(3), 2012.
.. [3] L. F. Richardson, "The deferred approach to the limit", Phil. Trans. R. Soc. A
   226, 1927.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["S_TRUNC", "K_NOISE", "EPS64", "step_term", "hessian_bounds", "jump_amplitude",
           "gradient_bound", "rounding_bound"]

S_TRUNC = 3.0     # safety factor on the Richardson truncation estimate
K_NOISE = 8.0     # noise standard deviations covered by the rounding term
EPS64 = float(np.finfo(np.float64).eps)


def step_term(D, xa, h, eps_x):
    """Error from the rounded backward points x - h and the combine arithmetic."""
    return np.abs(D) * (2.0 * eps_x * xa / h + 8.0 * EPS64)


@njit(cache=True)
def _pick(D, D2, rnd, rnd2, stp):  # pragma: no cover - jit
    """The estimate (D at h or D2 at 2h) with the smaller bound, and that bound."""
    t = S_TRUNC * abs(D - D2) / 3.0
    b1, b2 = t + rnd + stp, 4.0 * t + rnd2 + stp
    return (D2, b2) if b2 < b1 else (D, b1)


@njit(cache=True)
def hessian_bounds(d, d2, o, o2, g, g2, I, J, h, h2, x, sigma, eps_x):  # pragma: no cover
    """Entry form (d, d_err, o, o_err, g, g_err) from the stencils at h and 2h.

    Rounding K sigma / (h_i h_j) for pairs, 4 K sigma / h2_i^2 for the diagonal, K sigma /
    h2_i for the gradient; the 2h stencil's terms are 4x (gradient 2x) smaller."""
    n, ks = h.shape[0], K_NOISE * sigma
    de, db, ge, gb = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    oe, ob = np.empty(I.shape[0]), np.empty(I.shape[0])
    for i in range(n):
        xi = abs(np.float64(x[i])) / h[i]
        rnd = 4.0 * ks / (h2[i] * h2[i])
        stp = max(abs(d[i]), abs(d2[i])) * (8.0 * eps_x * xi + 8.0 * EPS64)
        de[i], db[i] = _pick(d[i], d2[i], rnd, rnd / 4.0, stp)
        stp = max(abs(g[i]), abs(g2[i])) * (4.0 * eps_x * abs(np.float64(x[i])) / h2[i]
                                            + 8.0 * EPS64)
        ge[i], gb[i] = _pick(g[i], g2[i], ks / h2[i], ks / (2.0 * h2[i]), stp)
    for k in range(I.shape[0]):
        i, j = I[k], J[k]
        rnd = ks / (h[i] * h[j])
        xs = abs(np.float64(x[i])) / h[i] + abs(np.float64(x[j])) / h[j]
        stp = max(abs(o[k]), abs(o2[k])) * (4.0 * eps_x * xs + 8.0 * EPS64)
        oe[k], ob[k] = _pick(o[k], o2[k], rnd, rnd / 4.0, stp)
    return de, db, oe, ob, ge, gb


@njit(cache=True)
def _jump_kernel(fp, fm, f0, h, g2, d2, g4, d4, skip, x, eps_x):  # pragma: no cover - jit
    """(s, fmax): largest implied noise amplitude and max |f| over the new values."""
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


def jump_amplitude(fp, fm, f0, h, g2, d2, g4, d4, skip, x, eps_x):
    """Noise amplitude implied by three steps h, 2h, 4h on the axes, and max |f|.

    With D_k = D + c (k h)^2 + e_k (|e_k| <= w_k s for values perturbed by at most s), the
    truncation cancels in 4(D_1 - D_2) - (D_2 - D_4) = 4 e_1 - 5 e_2 + e_4 (+ O(h^4)), so
    s >= |4 a - b| / (4 w_1 + 5 w_2 + w_4) with w_k = 1/(k h) for the central gradient and
    4/(k h)^2 for the diagonal. For a smooth f this is O(sigma + h^5); a kink or jump at
    the step scale makes it the size of the jump. The step terms of x -+ kh are
    subtracted first, and an axis counts only when |4 a - b| > |b| (b = D_2 - D_4): a
    smooth f with dominant h^4 terms gives |4 a - b| ~ 0.75 |b|, a jump |a| >~ |b|.
    Axes in ``skip`` and with non-finite values are left out.

    Returns (s, fmax) as floats.
    """
    c = np.ascontiguousarray
    s, fmax = _jump_kernel(c(fp), c(fm), float(f0), c(h), c(g2), c(d2), c(g4), c(d4),
                           c(skip), x, float(eps_x))
    return float(s), float(fmax)


def rounding_bound(D, h, sigma, xa, eps_x, c=1.0):
    """Rounding part of a gradient's bound: c K sigma / h + the step term."""
    return c * K_NOISE * sigma / h + step_term(D, xa, h, eps_x)


def gradient_bound(D, D2, h, sigma, xa, eps_x, order=2, c=1.0):
    """Richardson truncation S_T |D - D2| / (2^p - 1) plus :func:`rounding_bound`."""
    return S_TRUNC * np.abs(D - D2) / (2 ** order - 1) + rounding_bound(D, h, sigma, xa,
                                                                         eps_x, c)
