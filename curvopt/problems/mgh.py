"""More-Garbow-Hillstrom unconstrained test problems with exact derivatives.

Each problem is a nonlinear least-squares function f(x) = sum_i r_i(x)^2 of
More, J. J., Garbow, B. S. & Hillstrom, K. E. (1981), "Testing unconstrained
optimization software", ACM Trans. Math. Software 7(1), 17-41, with the
paper's numbering, dimensions (n, m), standard start x0 and documented
minimum values f*.  Each is written as residuals r(x), Jacobian J(x) and the
weighted residual Hessian W(x, w) = sum_i w_i hess r_i(x); `_base.least_squares`
assembles grad f = 2 J'r and hess f = 2 (J'J + W(x, r)).  t denotes the
problem's abscissae, i the 1-based residual index.

This module holds problems 1-14, 21 and 22 and the registry `mgh_problems`;
the data-fitting problems 15-19 are in `_mgh_fits` and the variable-dimension
problems 20 and 23-35 in `_mgh_variable` (split to keep modules short).
Where the paper lists other local minima, `Problem.f_local` carries them.
"""
from __future__ import annotations

import numpy as np

from . import _mgh_fits as _fits, _mgh_variable as _var
from ._base import by_name, least_squares, mgh_ref as _ref, wsum as _wsum

__all__ = ["mgh_problems", "get_mgh_problem"]


def ext_rosenbrock(n=2):
    """Problems 1 (n = 2) and 21: r = (10 (x_2i - x_2i-1^2), 1 - x_2i-1)."""
    def r(x):
        return np.ravel(np.column_stack((10 * (x[1::2] - x[::2] ** 2), 1 - x[::2])))

    def J(x):
        Jx, k = np.zeros((n, n)), np.arange(0, n, 2)
        Jx[k, k], Jx[k, k + 1], Jx[k + 1, k] = -20 * x[k], 10.0, -1.0
        return Jx

    def W(x, w):
        return np.diag(np.ravel(np.column_stack((-20 * w[::2], np.zeros(n // 2)))))

    x0 = np.tile([-1.2, 1.0], n // 2)
    return least_squares("rosenbrock" if n == 2 else "ext_rosenbrock_%d" % n,
                         r, J, W, x0, 0.0, np.ones(n), _ref(1 if n == 2 else 21))


def freudenstein_roth():
    """Problem 2; a second local minimum f = 48.9842 at (11.41, -0.8968)."""
    def r(x):
        return np.array([-13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
                         -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]])

    def J(x):
        return np.array([[1.0, 10 * x[1] - 3 * x[1] ** 2 - 2],
                         [1.0, 3 * x[1] ** 2 + 2 * x[1] - 14]])

    def W(x, w):
        return np.diag([0.0, w[0] * (10 - 6 * x[1]) + w[1] * (6 * x[1] + 2)])

    return least_squares("freudenstein_roth", r, J, W, [0.5, -2.0], 0.0,
                         [5.0, 4.0], _ref(2), f_local=(48.9842,))


def powell_badly_scaled():
    """Problem 3: r = (1e4 x1 x2 - 1, exp(-x1) + exp(-x2) - 1.0001)."""
    def r(x):
        return np.array([1e4 * x[0] * x[1] - 1,
                         np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])

    def J(x):
        return np.array([[1e4 * x[1], 1e4 * x[0]], [-np.exp(-x[0]), -np.exp(-x[1])]])

    def W(x, w):
        return (w[0] * 1e4 * np.array([[0.0, 1.0], [1.0, 0.0]])
                + w[1] * np.diag(np.exp(-x)))

    return least_squares("powell_badly_scaled", r, J, W, [0.0, 1.0], 0.0, None,
                         _ref(3), tags=("badly_scaled",))


def brown_badly_scaled():
    """Problem 4: r = (x1 - 1e6, x2 - 2e-6, x1 x2 - 2), minimum at (1e6, 2e-6)."""
    def r(x):
        return np.array([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])

    def J(x):
        return np.array([[1.0, 0.0], [0.0, 1.0], [x[1], x[0]]])

    def W(x, w):
        return w[2] * np.array([[0.0, 1.0], [1.0, 0.0]])

    return least_squares("brown_badly_scaled", r, J, W, [1.0, 1.0], 0.0,
                         [1e6, 2e-6], _ref(4), tags=("badly_scaled",))


def beale():
    """Problem 5: r_i = y_i - x1 (1 - x2^i), y = (1.5, 2.25, 2.625)."""
    i, y = np.arange(1.0, 4.0), np.array([1.5, 2.25, 2.625])

    def r(x):
        return y - x[0] * (1 - x[1] ** i)

    def J(x):
        return np.column_stack((x[1] ** i - 1, x[0] * i * x[1] ** (i - 1)))

    def W(x, w):
        c = w @ (i * x[1] ** (i - 1))
        return np.array([[0.0, c], [c, x[0] * (w @ (i * (i - 1) * x[1] ** (i - 2)))]])

    return least_squares("beale", r, J, W, [1.0, 1.0], 0.0, [3.0, 0.5], _ref(5))


def jennrich_sampson(m=10):
    """Problem 6 (m = 10): r_i = 2 + 2i - (exp(i x1) + exp(i x2))."""
    i = np.arange(1.0, m + 1)

    def r(x):
        return 2 + 2 * i - np.exp(i * x[0]) - np.exp(i * x[1])

    def J(x):
        return -np.column_stack((i * np.exp(i * x[0]), i * np.exp(i * x[1])))

    def W(x, w):
        return -np.diag([w @ (i * i * np.exp(i * x[0])), w @ (i * i * np.exp(i * x[1]))])

    return least_squares("jennrich_sampson", r, J, W, [0.3, 0.4], 124.362, None,
                         _ref(6, " (m = 10)"))


def helical_valley():
    """Problem 7: r = (10 (x3 - 10 theta), 10 (rho - 1), x3), theta the angle / 2 pi."""
    def theta(x):
        if x[0] == 0.0:
            return 0.25 * np.sign(x[1])
        return np.arctan(x[1] / x[0]) / (2 * np.pi) + (0.5 if x[0] < 0 else 0.0)

    def r(x):
        return np.array([10 * (x[2] - 10 * theta(x)), 10 * (np.hypot(x[0], x[1]) - 1), x[2]])

    def J(x):
        rho2, rho = x[0] ** 2 + x[1] ** 2, np.hypot(x[0], x[1])
        return np.array([[100 * x[1] / (2 * np.pi * rho2), -100 * x[0] / (2 * np.pi * rho2), 10],
                         [10 * x[0] / rho, 10 * x[1] / rho, 0], [0, 0, 1.0]])

    def W(x, w):
        a, b = x[0], x[1]
        rho2 = a * a + b * b
        th = np.array([[2 * a * b, b * b - a * a], [b * b - a * a, -2 * a * b]])
        th /= 2 * np.pi * rho2 ** 2
        rh = np.array([[b * b, -a * b], [-a * b, a * a]]) / rho2 ** 1.5
        H = np.zeros((3, 3))
        H[:2, :2] = -100 * w[0] * th + 10 * w[1] * rh
        return H

    return least_squares("helical_valley", r, J, W, [-1.0, 0.0, 0.0], 0.0,
                         [1.0, 0.0, 0.0], _ref(7))


def bard():
    """Problem 8: r_i = y_i - (x1 + u_i / (v_i x2 + w_i x3)), u = i, v = 16 - i, w = min(u, v)."""
    u = np.arange(1.0, 16.0)
    v, wv = 16 - u, np.minimum(u, 16 - u)
    y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58,
                  0.73, 0.96, 1.34, 2.10, 4.39])
    V = np.column_stack((v, wv))

    def r(x):
        return y - (x[0] + u / (V @ x[1:]))

    def J(x):
        d = V @ x[1:]
        return np.column_stack((-np.ones(15), (u / d ** 2)[:, None] * V))

    def W(x, w):
        H = np.zeros((3, 3))
        H[1:, 1:] = _wsum(-2 * w * u / (V @ x[1:]) ** 3, V)
        return H

    return least_squares("bard", r, J, W, [1.0, 1.0, 1.0], 8.21487e-3, None,
                         _ref(8), f_local=(17.4286,))


def gaussian():
    """Problem 9: r_i = x1 exp(-x2 (t_i - x3)^2 / 2) - y_i, t_i = (8 - i) / 2."""
    t = (8 - np.arange(1.0, 16.0)) / 2
    y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989])
    y = np.concatenate((y, y[-2::-1]))

    def parts(x):
        s = t - x[2]
        return s, np.exp(-x[1] * s * s / 2)

    def r(x):
        s, E = parts(x)
        return x[0] * E - y

    def J(x):
        s, E = parts(x)
        return np.column_stack((E, -x[0] * s * s * E / 2, x[0] * x[1] * s * E))

    def W(x, w):
        (s, E), (a, b) = parts(x), x[:2]
        h12, h13 = w @ (-s * s * E / 2), w @ (b * s * E)
        h22 = w @ (a * s ** 4 * E / 4)
        h23 = w @ (a * s * E - a * b * s ** 3 * E / 2)
        h33 = w @ (a * b * E * (b * s * s - 1))
        return np.array([[0.0, h12, h13], [h12, h22, h23], [h13, h23, h33]])

    return least_squares("gaussian", r, J, W, [0.4, 1.0, 0.0], 1.12793e-8, None,
                         _ref(9), tags=("badly_scaled",))


def meyer():
    """Problem 10: r_i = x1 exp(x2 / (t_i + x3)) - y_i, t_i = 45 + 5 i."""
    t = 45 + 5 * np.arange(1.0, 17.0)
    y = np.array([34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261,
                  7030, 6005, 5147, 4427, 3820, 3307, 2872], dtype=float)

    def r(x):
        return x[0] * np.exp(x[1] / (t + x[2])) - y

    def J(x):
        q = 1 / (t + x[2])
        E = np.exp(x[1] * q)
        return np.column_stack((E, x[0] * q * E, -x[0] * x[1] * q * q * E))

    def W(x, w):
        (a, b), q = x[:2], 1 / (t + x[2])
        E = w * np.exp(b * q)
        h12, h13, h22 = E @ q, -b * (E @ q ** 2), a * (E @ q ** 2)
        h23 = -a * (E @ (q * q * (1 + b * q)))
        h33 = a * b * (E @ (q ** 3 * (2 + b * q)))
        return np.array([[0.0, h12, h13], [h12, h22, h23], [h13, h23, h33]])

    return least_squares("meyer", r, J, W, [0.02, 4000.0, 250.0], 87.9458, None,
                         _ref(10), tags=("badly_scaled",))


def gulf(m=99):
    """Problem 11: r_i = exp(-|y_i - x2|^x3 / x1) - t_i.

    t_i = i/100, y_i = 25 + (-50 ln t_i)^(2/3); m = 99.
    """
    t = np.arange(1.0, m + 1) / 100
    y = 25 + (-50 * np.log(t)) ** (2 / 3)

    def phi(x):
        """phi = -|y - x2|^x3 / x1 (so r = exp(phi) - t), its gradient and Hessian."""
        a, s = np.abs(y - x[1]), np.sign(y - x[1])
        P, L, (x1, x3) = a ** x[2], np.log(a), (x[0], x[2])
        d = np.column_stack((P / x1 ** 2, s * x3 * P / (a * x1), -P * L / x1))
        h = [[-2 * P / x1 ** 3, -s * x3 * P / (a * x1 ** 2), P * L / x1 ** 2],
             [None, -x3 * (x3 - 1) * P / (a * a * x1), s * P * (1 + x3 * L) / (a * x1)],
             [None, None, -P * L * L / x1]]
        return -P / x1, d, h

    def r(x):
        return np.exp(phi(x)[0]) - t

    def J(x):
        p, d, _ = phi(x)
        return np.exp(p)[:, None] * d

    def W(x, w):
        p, d, h = phi(x)
        E = w * np.exp(p)
        U = np.array([[0.0 if h[j][k] is None else E @ h[j][k] for k in range(3)]
                      for j in range(3)])
        return _wsum(E, d) + U + np.triu(U, 1).T

    return least_squares("gulf", r, J, W, [5.0, 2.5, 0.15], 0.0, [50.0, 25.0, 1.5],
                         _ref(11, " (m = 99)"))


def box_3d(m=10):
    """Problem 12: r_i = exp(-t x1) - exp(-t x2) - x3 (exp(-t) - exp(-10 t)), t = i/10."""
    t = np.arange(1.0, m + 1) / 10
    c = np.exp(-t) - np.exp(-10 * t)

    def r(x):
        return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * c

    def J(x):
        return np.column_stack((-t * np.exp(-t * x[0]), t * np.exp(-t * x[1]), -c))

    def W(x, w):
        return np.diag([w @ (t * t * np.exp(-t * x[0])), -w @ (t * t * np.exp(-t * x[1])), 0.0])

    return least_squares("box_3d", r, J, W, [0.0, 10.0, 20.0], 0.0, [1.0, 10.0, 1.0],
                         _ref(12, " (m = 10)"))


def ext_powell_singular(n=4):
    """Problems 13 (n = 4) and 22.

    Per block (a, b, c, d): r = (a + 10b, 5^.5 (c - d), (b - 2c)^2, 10^.5 (a - d)^2).
    """
    s5, s10 = np.sqrt(5.0), np.sqrt(10.0)

    def r(x):
        a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
        return np.ravel(np.column_stack((a + 10 * b, s5 * (c - d), (b - 2 * c) ** 2,
                                         s10 * (a - d) ** 2)))

    def J(x):
        Jx = np.zeros((n, n))
        for k in range(0, n, 4):
            a, b, c, d = x[k:k + 4]
            Jx[k:k + 4, k:k + 4] = [[1, 10, 0, 0], [0, 0, s5, -s5],
                                    [0, 2 * (b - 2 * c), -4 * (b - 2 * c), 0],
                                    [2 * s10 * (a - d), 0, 0, -2 * s10 * (a - d)]]
        return Jx

    def W(x, w):
        H = np.zeros((n, n))
        for k in range(0, n, 4):
            H[k + 1:k + 3, k + 1:k + 3] = 2 * w[k + 2] * np.array([[1, -2], [-2, 4]])
            H[np.ix_([k, k + 3], [k, k + 3])] = 2 * s10 * w[k + 3] * np.array([[1, -1], [-1, 1]])
        return H

    name = "powell_singular" if n == 4 else "ext_powell_singular_%d" % n
    return least_squares(name, r, J, W, np.tile([3.0, -1.0, 0.0, 1.0], n // 4), 0.0,
                         np.zeros(n), _ref(13 if n == 4 else 22), tags=("singular_hessian",))


def wood():
    """Problem 14 (m = 6)."""
    s90, s10 = np.sqrt(90.0), np.sqrt(10.0)

    def r(x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0], s90 * (x[3] - x[2] ** 2),
                         1 - x[2], s10 * (x[1] + x[3] - 2), (x[1] - x[3]) / s10])

    def J(x):
        return np.array([[-20 * x[0], 10, 0, 0], [-1, 0, 0, 0], [0, 0, -2 * s90 * x[2], s90],
                         [0, 0, -1, 0], [0, s10, 0, s10], [0, 1 / s10, 0, -1 / s10]])

    def W(x, w):
        return np.diag([-20 * w[0], 0.0, -2 * s90 * w[2], 0.0])

    return least_squares("wood", r, J, W, [-3.0, -1.0, -3.0, -1.0], 0.0, np.ones(4), _ref(14))


def mgh_problems():
    """Return the More-Garbow-Hillstrom set (problems 1-35, some at two sizes), in paper order.

    Returns
    -------
    list of Problem
        New instances on each call (the records are immutable anyway).
    """
    return [ext_rosenbrock(2), freudenstein_roth(), powell_badly_scaled(),
            brown_badly_scaled(), beale(), jennrich_sampson(), helical_valley(), bard(),
            gaussian(), meyer(), gulf(), box_3d(), ext_powell_singular(4), wood(),
            _fits.kowalik_osborne(), _fits.brown_dennis(), _fits.osborne_1(),
            _fits.biggs_exp6(), _fits.osborne_2(), _var.watson(6), _var.watson(9),
            ext_rosenbrock(10), ext_powell_singular(12), _var.penalty_1(4),
            _var.penalty_1(10), _var.penalty_2(4), _var.penalty_2(10),
            _var.variably_dimensioned(10), _var.trigonometric(10),
            _var.brown_almost_linear(10), _var.boundary_value(10),
            _var.integral_equation(10), _var.broyden_tridiagonal(10),
            _var.broyden_banded(10), _var.linear("full_rank"), _var.linear("rank_1"),
            _var.linear("rank_1_zero"), _var.chebyquad(8)]


def get_mgh_problem(name):
    """Return the More-Garbow-Hillstrom problem called `name` (ValueError if unknown)."""
    return by_name(mgh_problems(), name, "More-Garbow-Hillstrom problem")
