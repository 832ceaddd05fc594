"""More-Garbow-Hillstrom variable-dimension problems 20 and 23-35.

Each is f(x) = sum_i r_i(x)^2 (More, Garbow & Hillstrom 1981, ACM TOMS 7(1)
17-41) with the paper's start and documented f* for the chosen n, written as
residuals r, Jacobian J and weighted residual Hessian W(x, w) = sum_i w_i
hess r_i, assembled by `_base.least_squares`.  Linear problems (32-34) have
W = 0.  Problems 21 and 22 (extended Rosenbrock and Powell) live in `mgh`.
"""
from __future__ import annotations

import numpy as np

from ._base import least_squares, mgh_ref as _ref, wsum as _wsum

__all__ = ["watson", "penalty_1", "penalty_2", "variably_dimensioned", "trigonometric",
           "brown_almost_linear", "boundary_value", "integral_equation",
           "broyden_tridiagonal", "broyden_banded", "linear", "chebyquad"]

_WATSON = {6: 2.28767e-3, 9: 1.39976e-6, 12: 4.72238e-10}
_PENALTY_1 = {4: 2.24997e-5, 10: 7.08765e-5}
_PENALTY_2 = {4: 9.37629e-6, 10: 2.93660e-4}
_CHEBYQUAD = {8: 3.51687e-3, 10: 6.50395e-3}


def watson(n=6):
    """Problem 20: r_i = sum_j (j-1) x_j t^(j-2) - (sum_j x_j t^(j-1))^2 - 1, t = i/29.

    For i <= 29; r_30 = x1, r_31 = x2 - x1^2 - 1.
    """
    t, j = np.arange(1.0, 30.0) / 29, np.arange(n)
    P, Q = t[:, None] ** j, j * t[:, None] ** (j - 1.0)

    def r(x):
        return np.concatenate((Q @ x - (P @ x) ** 2 - 1, [x[0], x[1] - x[0] ** 2 - 1]))

    def J(x):
        e = np.eye(n)
        return np.vstack((Q - 2 * (P @ x)[:, None] * P, e[0], e[1] - 2 * x[0] * e[0]))

    def W(x, w):
        H = -2 * _wsum(w[:29], P)
        H[0, 0] -= 2 * w[30]
        return H

    return least_squares("watson_%d" % n, r, J, W, np.zeros(n), _WATSON[n], None, _ref(20))


def penalty_1(n=4, a=1e-5):
    """Problem 23: r_i = a^.5 (x_i - 1), r_n+1 = sum x_j^2 - 1/4."""
    def r(x):
        return np.append(np.sqrt(a) * (x - 1), x @ x - 0.25)

    def J(x):
        return np.vstack((np.sqrt(a) * np.eye(n), 2 * x))

    def W(x, w):
        return 2 * w[n] * np.eye(n)

    return least_squares("penalty_1_%d" % n, r, J, W, np.arange(1.0, n + 1), _PENALTY_1[n],
                         None, _ref(23), tags=("badly_scaled",))


def penalty_2(n=4, a=1e-5):
    """Problem 24: r_1 = x1 - .2, then a^.5 (e^(x_i/10) + e^(x_i-1/10) - y_i) (2 <= i <= n),
    a^.5 (e^(x_i/10) - e^-.1) (2 <= i <= n) and sum_j (n - j + 1) x_j^2 - 1.
    """
    sa, k, c = np.sqrt(a), np.arange(1, n), n - np.arange(float(n))
    y = np.exp((k + 1) / 10) + np.exp(k / 10)

    def r(x):
        e = np.exp(x / 10)
        return np.concatenate(([x[0] - 0.2], sa * (e[1:] + e[:-1] - y),
                               sa * (e[1:] - np.exp(-0.1)), [c @ x ** 2 - 1]))

    def J(x):
        e, Jx = np.exp(x / 10) * sa / 10, np.zeros((2 * n, n))
        Jx[0, 0] = 1.0
        Jx[k, k], Jx[k, k - 1], Jx[n - 1 + k, k] = e[1:], e[:-1], e[1:]
        Jx[-1] = 2 * c * x
        return Jx

    def W(x, w):
        e, d = np.exp(x / 10) * sa / 100, 2 * c * w[-1]
        d[1:] += (w[1:n] + w[n:2 * n - 1]) * e[1:]
        d[:-1] += w[1:n] * e[:-1]
        return np.diag(d)

    return least_squares("penalty_2_%d" % n, r, J, W, np.full(n, 0.5), _PENALTY_2[n], None,
                         _ref(24), tags=("badly_scaled",))


def variably_dimensioned(n=10):
    """Problem 25: r_i = x_i - 1, r_n+1 = s, r_n+2 = s^2 with s = sum_j j (x_j - 1)."""
    j = np.arange(1.0, n + 1)

    def r(x):
        s = j @ (x - 1)
        return np.concatenate((x - 1, [s, s * s]))

    def J(x):
        return np.vstack((np.eye(n), j, 2 * (j @ (x - 1)) * j))

    def W(x, w):
        return 2 * w[-1] * np.outer(j, j)

    return least_squares("variably_dimensioned_%d" % n, r, J, W, 1 - j / n, 0.0, np.ones(n),
                         _ref(25))


def trigonometric(n=10):
    """Problem 26: r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i; f = 0 at x = 0."""
    i = np.arange(1.0, n + 1)

    def r(x):
        return n - np.cos(x).sum() + i * (1 - np.cos(x)) - np.sin(x)

    def J(x):
        return np.sin(x)[None, :] + np.diag(i * np.sin(x) - np.cos(x))

    def W(x, w):
        return np.diag(w.sum() * np.cos(x) + w * (i * np.cos(x) + np.sin(x)))

    return least_squares("trigonometric_%d" % n, r, J, W, np.full(n, 1.0 / n), 0.0,
                         np.zeros(n), _ref(26), f_local=(2.79506e-5,) if n == 10 else ())


def brown_almost_linear(n=10):
    """Problem 27: r_i = x_i + sum_j x_j - (n + 1) for i < n, r_n = prod_j x_j - 1."""
    def prod_without(x, drop):
        return np.prod(np.delete(x, drop))

    def r(x):
        return np.append(x[:-1] + x.sum() - (n + 1), np.prod(x) - 1)

    def J(x):
        return np.vstack((np.eye(n)[:-1] + 1, [prod_without(x, [j]) for j in range(n)]))

    def W(x, w):
        H = np.array([[prod_without(x, [j, k]) if j != k else 0.0 for k in range(n)]
                      for j in range(n)])
        return w[-1] * H

    return least_squares("brown_almost_linear_%d" % n, r, J, W, np.full(n, 0.5), 0.0,
                         np.ones(n), _ref(27), f_local=(1.0,))


def boundary_value(n=10):
    """Problem 28: r_i = 2 x_i - x_i-1 - x_i+1 + h^2 (x_i + t_i + 1)^3 / 2, x_0 = x_n+1 = 0."""
    h = 1.0 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    L = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)

    def r(x):
        return L @ x + h * h * (x + t + 1) ** 3 / 2

    def J(x):
        return L + np.diag(1.5 * h * h * (x + t + 1) ** 2)

    def W(x, w):
        return np.diag(3 * h * h * w * (x + t + 1))

    return least_squares("boundary_value_%d" % n, r, J, W, t * (t - 1), 0.0, None, _ref(28))


def integral_equation(n=10):
    """Problem 29: r = x + K (x + t + 1)^3 (elementwise cube).

    K_ij = h/2 (1 - t_i) t_j for j <= i and h/2 t_i (1 - t_j) for j > i.
    """
    h = 1.0 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    K = h / 2 * np.where(np.tri(n, dtype=bool), np.outer(1 - t, t), np.outer(t, 1 - t))

    def r(x):
        return x + K @ (x + t + 1) ** 3

    def J(x):
        return np.eye(n) + K * (3 * (x + t + 1) ** 2)[None, :]

    def W(x, w):
        return np.diag((K.T @ w) * 6 * (x + t + 1))

    return least_squares("integral_equation_%d" % n, r, J, W, t * (t - 1), 0.0, None, _ref(29))


def broyden_tridiagonal(n=10):
    """Problem 30: r_i = (3 - 2 x_i) x_i - x_i-1 - 2 x_i+1 + 1, x_0 = x_n+1 = 0."""
    S = np.eye(n, k=-1) + 2 * np.eye(n, k=1)

    def r(x):
        return (3 - 2 * x) * x - S @ x + 1

    def J(x):
        return np.diag(3 - 4 * x) - S

    def W(x, w):
        return np.diag(-4 * w)

    return least_squares("broyden_tridiagonal_%d" % n, r, J, W, -np.ones(n), 0.0, None,
                         _ref(30))


def broyden_banded(n=10, ml=5, mu=1):
    """Problem 31: r_i = x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j).

    J_i = {j != i: i - ml <= j <= i + mu}, ml = 5, mu = 1.
    """
    d = np.subtract.outer(np.arange(n), np.arange(n))
    B = ((d != 0) & (d <= ml) & (-d <= mu)).astype(float)

    def r(x):
        return x * (2 + 5 * x * x) + 1 - B @ (x * (1 + x))

    def J(x):
        return np.diag(2 + 15 * x * x) - B * (1 + 2 * x)[None, :]

    def W(x, w):
        return np.diag(30 * x * w - 2 * (B.T @ w))

    return least_squares("broyden_banded_%d" % n, r, J, W, -np.ones(n), 0.0, None, _ref(31))


def linear(kind, n=10, m=20):
    """Problems 32-34: r = A x - 1 (full rank; rank 1; rank 1 with zero columns and rows)."""
    i, j = np.arange(1.0, m + 1), np.arange(1.0, n + 1)
    if kind == "full_rank":
        A, f_star, x_star, k = np.eye(m, n) - 2.0 / m, m - n, -np.ones(n), 32
    elif kind == "rank_1":
        A, f_star, x_star, k = np.outer(i, j), m * (m - 1) / (2 * (2 * m + 1)), None, 33
    else:
        A = np.outer(i - 1, j)
        A[[0, -1]], A[:, [0, -1]] = 0.0, 0.0
        f_star, x_star, k = (m * m + 3 * m - 6) / (2 * (2 * m - 3)), None, 34
    tags = () if kind == "full_rank" else ("singular_hessian",)
    return least_squares("linear_%s_%d" % (kind, n), lambda x: A @ x - 1, lambda x: A,
                         lambda x, w: np.zeros((n, n)), np.ones(n), f_star, x_star,
                         _ref(k, " (m = %d)" % m), tags=tags)


def chebyquad(n=8):
    """Problem 35 (m = n): r_i = mean_j T_i(2 x_j - 1) - int_0^1 T_i(2 s - 1) ds, T_i Chebyshev."""
    i = np.arange(1.0, n + 1)
    c = np.where(i % 2 == 0, -1 / (i * i - 1 + (i % 2)), 0.0)

    def cheb(x):
        """T_k(y), dT_k/dx, d2T_k/dx2 at y = 2x - 1, k = 1..n (rows), by recurrence."""
        y, T = 2 * x - 1, [np.ones(n), 2 * x - 1]
        dT, d2T = [np.zeros(n), np.ones(n)], [np.zeros(n), np.zeros(n)]
        for k in range(1, n):
            T.append(2 * y * T[k] - T[k - 1])
            dT.append(2 * T[k] + 2 * y * dT[k] - dT[k - 1])
            d2T.append(4 * dT[k] + 2 * y * d2T[k] - d2T[k - 1])
        return np.array(T[1:]), 2 * np.array(dT[1:]), 4 * np.array(d2T[1:])

    def r(x):
        return cheb(x)[0].mean(axis=1) - c

    def J(x):
        return cheb(x)[1] / n

    def W(x, w):
        return np.diag(w @ cheb(x)[2] / n)

    return least_squares("chebyquad_%d" % n, r, J, W, np.arange(1.0, n + 1) / (n + 1),
                         _CHEBYQUAD[n], None, _ref(35))
