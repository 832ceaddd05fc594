"""Two CUTEst problems coded by hand from their SIF files: HEART6LS and MARATOSB.

HEART6LS (6 variables; SIF classification SUR2-MN-6-0) is the least-squares form of the
dipole model of the heart of Dennis, Gay & Vu (1985), 6 x 6 version: with variables
(a, c, t, u, v, w), the derived quantities b = Mx - a and d = My - c, and
P(p, q) = p (p^2 - 3 q^2),

    r1 = a t + b u - c v - d w - A
    r2 = a v + b w + c t + d u - B
    r3 = a (t^2 - v^2) - 2 c t v + b (u^2 - w^2) - 2 d u w - C
    r4 = c (t^2 - v^2) + 2 a t v + d (u^2 - w^2) + 2 b u w - D
    r5 = a P(t, v) + c P(v, t) + b P(u, w) + d P(w, u) - E
    r6 = c P(t, v) - a P(v, t) + d P(u, w) - b P(w, u) - F

and f = sum_i r_i^2 (SIF group type L2, GVAR * GVAR, no factor 1/2). The SIF file's active
data set is Mx = -0.816, My = -0.017, A = -1.826, B = -0.754, C = -4.839, D = -3.259,
E = -14.023, F = 15.467; the standard start is a = c = 0, t = u = v = w = 1; the optimal
value is 0 (a zero-residual problem: six equations in six unknowns; commented
"LO SOLTN 0.0" in the SIF file). Element D3PRD is (ALPHA - X) Y (Y^2 - 3 Z^2), as in the
corrected SIF file (correction by S. Gratton & Ph. Toint, May 2024; the older file wrote
``ALPHA - x``). The problem is symmetric under (a, c, t, u, v, w) -> (Mx - a, My - c, u, t,
w, v), so zeros come in pairs; one is near (-0.8191, -0.016776, 2.250216, 2.681514,
0.797098, -20.241705), where the Hessian 2 J'J has condition number ~4e11 (scipy's
trust-exact with the exact derivatives needs ~670 iterations from the standard start).
No minimizer is printed by the source, so `x_star` is None.

MARATOSB (2 variables; OUR2-AN-2-0) is Toint's variant of the Maratos problem with penalty
parameter INVP = 1e-6: group F is x1 and group C is (x1^2 + x2^2 - 1)^2 scaled by 1/INVP,

    f(x) = x1 + 1e6 (x1^2 + x2^2 - 1)^2,

from the start (1.1, 0.1). With M = 1e6 and s = x1^2 + x2^2,

    grad f = (1 + 4 M (s - 1) x1,  4 M (s - 1) x2),
    hess f = 4 M (s - 1) I + 8 M x x'.

Stationary points need x2 = 0 (else s = 1 and df/dx1 = 1) and x1 a root of
x^3 - x + 1/(4M) = 0: near -1 the global minimum, x1* = -1 - 1.25e-7 (to first order),
f* = x1* + M (x1*^2 - 1)^2 ~ -1.0000000625; near 0 a local maximum; near +1 a strict saddle
(d2f/dx2^2 = 4 M (x1^2 - 1) ~ -1 there, against d2f/dx1^2 ~ 8e6) with value 1 - 6.25e-8,
close to the 1.0 of the line "LO SOLTN 1.0" that is commented out in the SIF file. The Hessian's eigenvalues near the circle
differ by up to 8e6: a stiff, badly scaled problem. `f_star` and `x_star` here are that
closed form (the root by Newton's method on the cubic), not numbers printed by the source.

Sources (SIF files, read from public mirrors of the CUTEst collection):
``GrattonToint/S2MPJ``, ``sif/HEART6LS.SIF`` (commit 1b31f11) and ``sif/MARATOSB.SIF``
(commit 37bf7b1); HEART6LS also ``optimizers/mastsif-mirror``, ``HEART6LS.SIF``
(commit eb2eb99, before the D3PRD correction). CUTEst: Gould, Orban & Toint (2015),
Comput. Optim. Appl. 60, 545-557.
"""
from __future__ import annotations

import numpy as np

from ._base import least_squares, make_problem

__all__ = ["heart6ls", "maratosb", "cutest_problems"]

# HEART6LS data (the active "RE" block of the SIF file).
_MX, _MY = -0.816, -0.017
_SUMS = np.array([-1.826, -0.754, -4.839, -3.259, -14.023, 15.467])   # A, B, C, D, E, F

_HEART6LS_REF = ("CUTEst HEART6LS (SIF input A. R. Conn, May 1993, mod. Ph. Toint, March 1994, "
                 "corr. S. Gratton & Ph. Toint, May 2024): least-squares form of the 6 x 6 "
                 "dipole model of the heart, J. E. Dennis, Jr., D. M. Gay & P. A. Vu, 'A new "
                 "nonlinear equations test problem', Tech. Rep. 83-16, Dept. Math. Sci., Rice "
                 "Univ. (1983, rev. 1985); SIF file from GrattonToint/S2MPJ sif/HEART6LS.SIF; "
                 "start a = c = 0, t = u = v = w = 1; f* = 0 (zero residual)")

_MARATOSB_REF = ("CUTEst MARATOSB (Ph. Toint, SIF input June 1990): Maratos problem with "
                 "penalty parameter 1e-6, f = x1 + 1e6 (x1^2 + x2^2 - 1)^2, start (1.1, 0.1); "
                 "SIF file from GrattonToint/S2MPJ sif/MARATOSB.SIF. f_star, x_star: closed "
                 "form (x2 = 0, x1 the root near -1 of x^3 - x + 2.5e-7 = 0); a strict saddle "
                 "near (1, 0) with f ~ 1")


def _cube(p, q):
    """P(p, q) = p (p^2 - 3 q^2), its gradient (P_p, P_q) and Hessian entries (P_pp, P_pq, P_qq)."""
    return (p * (p * p - 3 * q * q), (3 * p * p - 3 * q * q, -6 * p * q),
            (6 * p, -6 * q, -6 * p))


def heart6ls():
    """HEART6LS: 6 residuals in (a, c, t, u, v, w); see the module docstring."""
    A, C, T, U, V, W_ = range(6)

    def r(x):
        a, c, t, u, v, w = x
        b, d = _MX - a, _MY - c
        P_tv, P_vt = _cube(t, v)[0], _cube(v, t)[0]
        P_uw, P_wu = _cube(u, w)[0], _cube(w, u)[0]
        return np.array([
            a * t + b * u - c * v - d * w,
            a * v + b * w + c * t + d * u,
            a * (t * t - v * v) - 2 * c * t * v + b * (u * u - w * w) - 2 * d * u * w,
            c * (t * t - v * v) + 2 * a * t * v + d * (u * u - w * w) + 2 * b * u * w,
            a * P_tv + c * P_vt + b * P_uw + d * P_wu,
            c * P_tv - a * P_vt + d * P_uw - b * P_wu,
        ]) - _SUMS

    def J(x):
        a, c, t, u, v, w = x
        b, d = _MX - a, _MY - c
        P_tv, (Ptv_t, Ptv_v), _ = _cube(t, v)
        P_vt, (Pvt_v, Pvt_t), _ = _cube(v, t)
        P_uw, (Puw_u, Puw_w), _ = _cube(u, w)
        P_wu, (Pwu_w, Pwu_u), _ = _cube(w, u)
        # columns a, c, t, u, v, w; db/da = -1, dd/dc = -1
        return np.array([
            [t - u, w - v, a, b, -c, -d],
            [v - w, t - u, c, d, a, b],
            [t * t - v * v - (u * u - w * w), -2 * t * v + 2 * u * w,
             2 * a * t - 2 * c * v, 2 * b * u - 2 * d * w,
             -2 * a * v - 2 * c * t, -2 * b * w - 2 * d * u],
            [2 * t * v - 2 * u * w, t * t - v * v - (u * u - w * w),
             2 * c * t + 2 * a * v, 2 * d * u + 2 * b * w,
             -2 * c * v + 2 * a * t, -2 * d * w + 2 * b * u],
            [P_tv - P_uw, P_vt - P_wu,
             a * Ptv_t + c * Pvt_t, b * Puw_u + d * Pwu_u,
             a * Ptv_v + c * Pvt_v, b * Puw_w + d * Pwu_w],
            [-P_vt + P_wu, P_tv - P_uw,
             c * Ptv_t - a * Pvt_t, d * Puw_u - b * Pwu_u,
             c * Ptv_v - a * Pvt_v, d * Puw_w - b * Pwu_w],
        ])

    def W(x, wt):
        """sum_i wt_i hess r_i, assembled entry by entry (upper triangle, then mirrored)."""
        a, c, t, u, v, w = x
        b, d = _MX - a, _MY - c
        _, (Ptv_t, Ptv_v), (Ptv_tt, Ptv_tv, Ptv_vv) = _cube(t, v)
        _, (Pvt_v, Pvt_t), (Pvt_vv, Pvt_vt, Pvt_tt) = _cube(v, t)
        _, (Puw_u, Puw_w), (Puw_uu, Puw_uw, Puw_ww) = _cube(u, w)
        _, (Pwu_w, Pwu_u), (Pwu_ww, Pwu_wu, Pwu_uu) = _cube(w, u)
        w1, w2, w3, w4, w5, w6 = wt
        entries = [
            # r1 = a t + b u - c v - d w
            (A, T, w1), (A, U, -w1), (C, V, -w1), (C, W_, w1),
            # r2 = a v + b w + c t + d u
            (A, V, w2), (A, W_, -w2), (C, T, w2), (C, U, -w2),
            # r3 = a (t^2 - v^2) - 2 c t v + b (u^2 - w^2) - 2 d u w
            (A, T, 2 * t * w3), (A, V, -2 * v * w3), (A, U, -2 * u * w3), (A, W_, 2 * w * w3),
            (C, T, -2 * v * w3), (C, V, -2 * t * w3), (C, U, 2 * w * w3), (C, W_, 2 * u * w3),
            (T, T, 2 * a * w3), (T, V, -2 * c * w3), (V, V, -2 * a * w3),
            (U, U, 2 * b * w3), (U, W_, -2 * d * w3), (W_, W_, -2 * b * w3),
            # r4 = c (t^2 - v^2) + 2 a t v + d (u^2 - w^2) + 2 b u w
            (A, T, 2 * v * w4), (A, V, 2 * t * w4), (A, U, -2 * w * w4), (A, W_, -2 * u * w4),
            (C, T, 2 * t * w4), (C, V, -2 * v * w4), (C, U, -2 * u * w4), (C, W_, 2 * w * w4),
            (T, T, 2 * c * w4), (T, V, 2 * a * w4), (V, V, -2 * c * w4),
            (U, U, 2 * d * w4), (U, W_, 2 * b * w4), (W_, W_, -2 * d * w4),
            # r5 = a P(t, v) + c P(v, t) + b P(u, w) + d P(w, u)
            (A, T, Ptv_t * w5), (A, V, Ptv_v * w5), (A, U, -Puw_u * w5), (A, W_, -Puw_w * w5),
            (C, V, Pvt_v * w5), (C, T, Pvt_t * w5), (C, W_, -Pwu_w * w5), (C, U, -Pwu_u * w5),
            (T, T, (a * Ptv_tt + c * Pvt_tt) * w5), (T, V, (a * Ptv_tv + c * Pvt_vt) * w5),
            (V, V, (a * Ptv_vv + c * Pvt_vv) * w5),
            (U, U, (b * Puw_uu + d * Pwu_uu) * w5), (U, W_, (b * Puw_uw + d * Pwu_wu) * w5),
            (W_, W_, (b * Puw_ww + d * Pwu_ww) * w5),
            # r6 = c P(t, v) - a P(v, t) + d P(u, w) - b P(w, u)
            (C, T, Ptv_t * w6), (C, V, Ptv_v * w6), (A, V, -Pvt_v * w6), (A, T, -Pvt_t * w6),
            (C, U, -Puw_u * w6), (C, W_, -Puw_w * w6), (A, W_, Pwu_w * w6), (A, U, Pwu_u * w6),
            (T, T, (c * Ptv_tt - a * Pvt_tt) * w6), (T, V, (c * Ptv_tv - a * Pvt_vt) * w6),
            (V, V, (c * Ptv_vv - a * Pvt_vv) * w6),
            (U, U, (d * Puw_uu - b * Pwu_uu) * w6), (U, W_, (d * Puw_uw - b * Pwu_wu) * w6),
            (W_, W_, (d * Puw_ww - b * Pwu_ww) * w6),
        ]
        H = np.zeros((6, 6))
        for i, j, val in entries:                     # all with i <= j
            H[i, j] += val
        return H + np.triu(H, 1).T

    return least_squares("heart6ls", r, J, W, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0], 0.0, None,
                         _HEART6LS_REF)


def _maratosb_minimizer(M):
    """x1 < 0 root of x^3 - x + 1/(4M) = 0 (Newton from -1) and f there, x2 = 0."""
    q = 1.0 / (4.0 * M)
    x = -1.0
    for _ in range(8):
        x -= (x * x * x - x + q) / (3 * x * x - 1)
    return x, x + M * ((x - 1.0) * (x + 1.0)) ** 2


def maratosb(M=1e6):
    """MARATOSB: f = x1 + M (x1^2 + x2^2 - 1)^2, M = 1/INVP = 1e6; see the module docstring."""
    def f(x):
        s1 = x[0] * x[0] + x[1] * x[1] - 1.0
        return x[0] + M * s1 * s1

    def grad(x):
        s1 = x[0] * x[0] + x[1] * x[1] - 1.0
        return np.array([1.0 + 4.0 * M * s1 * x[0], 4.0 * M * s1 * x[1]])

    def hess(x):
        s1 = x[0] * x[0] + x[1] * x[1] - 1.0
        return 4.0 * M * s1 * np.eye(2) + 8.0 * M * np.outer(x, x)

    x1, f_star = _maratosb_minimizer(M)
    return make_problem("maratosb", f, grad, hess, [1.1, 0.1], f_star, [x1, 0.0],
                        _MARATOSB_REF, tags=("badly_scaled",))


def cutest_problems():
    """Return [HEART6LS, MARATOSB] as `Problem` records."""
    return [heart6ls(), maratosb()]
