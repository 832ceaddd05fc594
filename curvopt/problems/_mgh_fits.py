"""More-Garbow-Hillstrom data-fitting problems 15-19 (exponential and rational models).

Each is f(x) = sum_i r_i(x)^2 with r_i = y_i - model(t_i; x) (or model - y_i)
on the paper's data (More, Garbow & Hillstrom 1981, ACM TOMS 7(1) 17-41),
written as residuals r, Jacobian J and weighted residual Hessian
W(x, w) = sum_i w_i hess r_i, assembled by `_base.least_squares`.
"""
from __future__ import annotations

import numpy as np

from ._base import least_squares, mgh_ref as _ref, wsum as _wsum

__all__ = ["kowalik_osborne", "brown_dennis", "osborne_1", "biggs_exp6", "osborne_2"]

def kowalik_osborne():
    """Problem 15: r_i = y_i - x1 (u^2 + u x2) / (u^2 + u x3 + x4)."""
    y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342,
                  0.0323, 0.0235, 0.0246])
    u = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])

    def r(x):
        return y - x[0] * (u * u + u * x[1]) / (u * u + u * x[2] + x[3])

    def J(x):
        N, D = u * u + u * x[1], u * u + u * x[2] + x[3]
        return -np.column_stack((N / D, x[0] * u / D, -x[0] * N * u / D ** 2, -x[0] * N / D ** 2))

    def W(x, w):
        N, D, a = u * u + u * x[1], u * u + u * x[2] + x[3], x[0]
        H = np.zeros((4, 4))
        H[0, 1:] = [w @ (u / D), -w @ (N * u / D ** 2), -w @ (N / D ** 2)]
        H[1, 2:] = [-a * (w @ (u * u / D ** 2)), -a * (w @ (u / D ** 2))]
        H[2, 2:] = [2 * a * (w @ (N * u * u / D ** 3)), 2 * a * (w @ (N * u / D ** 3))]
        H[3, 3] = 2 * a * (w @ (N / D ** 3))
        return -(H + np.triu(H, 1).T)

    return least_squares("kowalik_osborne", r, J, W, [0.25, 0.39, 0.415, 0.39], 3.07505e-4,
                         None, _ref(15), f_local=(1.02734e-3,))


def brown_dennis(m=20):
    """Problem 16 (m = 20): r_i = (x1 + t x2 - e^t)^2 + (x3 + x4 sin t - cos t)^2, t = i/5."""
    t = np.arange(1.0, m + 1) / 5
    z = np.zeros(m)
    Av = np.column_stack((np.ones(m), t, z, z))
    Bv = np.column_stack((z, z, np.ones(m), np.sin(t)))

    def r(x):
        return (Av @ x - np.exp(t)) ** 2 + (Bv @ x - np.cos(t)) ** 2

    def J(x):
        return 2 * ((Av @ x - np.exp(t))[:, None] * Av + (Bv @ x - np.cos(t))[:, None] * Bv)

    def W(x, w):
        return 2 * (_wsum(w, Av) + _wsum(w, Bv))

    return least_squares("brown_dennis", r, J, W, [25.0, 5.0, -5.0, -1.0], 85822.2, None,
                         _ref(16, " (m = 20)"))


def osborne_1():
    """Problem 17: r_i = y_i - (x1 + x2 exp(-t x4) + x3 exp(-t x5)), t = 10 (i - 1)."""
    y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
                  0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522,
                  0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
                  0.414, 0.411, 0.406])
    t = 10 * np.arange(33.0)

    def r(x):
        return y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))

    def J(x):
        e4, e5 = np.exp(-t * x[3]), np.exp(-t * x[4])
        return -np.column_stack((np.ones(33), e4, e5, -t * x[1] * e4, -t * x[2] * e5))

    def W(x, w):
        e4, e5, H = w * np.exp(-t * x[3]), w * np.exp(-t * x[4]), np.zeros((5, 5))
        H[1, 3] = H[3, 1] = t @ e4
        H[2, 4] = H[4, 2] = t @ e5
        H[3, 3], H[4, 4] = -x[1] * (t * t @ e4), -x[2] * (t * t @ e5)
        return H

    return least_squares("osborne_1", r, J, W, [0.5, 1.5, -1.0, 0.01, 0.02], 5.46489e-5,
                         None, _ref(17))


def biggs_exp6(m=13):
    """Problem 18 (m = 13): r_i = x3 e^(-t x1) - x4 e^(-t x2) + x6 e^(-t x5) - y_i, t = i/10.

    f = 0 at (1, 10, 1, 5, 4, 3); the paper also lists a local f = 5.65565e-3.
    """
    t = np.arange(1.0, m + 1) / 10
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)

    def r(x):
        return (x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1])
                + x[5] * np.exp(-t * x[4]) - y)

    def J(x):
        e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
        return np.column_stack((-t * x[2] * e1, t * x[3] * e2, e1, -e2, -t * x[5] * e5, e5))

    def W(x, w):
        e1, e2, e5 = (w * np.exp(-t * x[k]) for k in (0, 1, 4))
        H = np.zeros((6, 6))
        H[0, 0], H[1, 1], H[4, 4] = x[2] * (t * t @ e1), -x[3] * (t * t @ e2), x[5] * (t * t @ e5)
        H[0, 2] = H[2, 0] = -t @ e1
        H[1, 3] = H[3, 1] = t @ e2
        H[4, 5] = H[5, 4] = -t @ e5
        return H

    return least_squares("biggs_exp6", r, J, W, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], 0.0,
                         [1.0, 10.0, 1.0, 5.0, 4.0, 3.0], _ref(18, " (m = 13)"),
                         f_local=(5.65565e-3,))


def osborne_2():
    """Problem 19: r_i = y_i - (x1 e^(-t x5) + sum_k x_k+1 e^(-(t - x_k+8)^2 x_k+5)).

    k = 1, 2, 3 and t = (i - 1)/10, m = 65.
    """
    y = np.array([1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725,
                  0.746, 0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724,
                  0.649, 0.649, 0.694, 0.644, 0.624, 0.661, 0.612, 0.558, 0.533, 0.495,
                  0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429,
                  0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632,
                  0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581,
                  0.428, 0.292, 0.162, 0.098, 0.054])
    t = np.arange(65.0) / 10

    def bumps(x):
        """Per Gaussian k = 1..3: amplitude a, width b, centre c, s = t - c, E."""
        for k in (1, 2, 3):
            a, b, c = x[k], x[k + 4], x[k + 7]
            s = t - c
            yield (k, k + 4, k + 7), a, b, s, np.exp(-s * s * b)

    def r(x):
        return y - x[0] * np.exp(-t * x[4]) - sum(a * E for _, a, _, _, E in bumps(x))

    def J(x):
        Jx, E0 = np.zeros((65, 11)), np.exp(-t * x[4])
        Jx[:, 0], Jx[:, 4] = E0, -t * x[0] * E0
        for idx, a, b, s, E in bumps(x):
            Jx[:, idx] = np.column_stack((E, -a * s * s * E, 2 * a * b * s * E))
        return -Jx

    def W(x, w):
        H, E0 = np.zeros((11, 11)), w * np.exp(-t * x[4])
        H[0, 4], H[4, 4] = -t @ E0, x[0] * (t * t @ E0)
        for (i, j, k), a, b, s, E in bumps(x):
            E = w * E
            H[i, j], H[i, k] = -(s * s) @ E, 2 * b * (s @ E)
            H[j, j], H[j, k] = a * (s ** 4 @ E), 2 * a * ((s - b * s ** 3) @ E)
            H[k, k] = 2 * a * b * ((2 * b * s * s - 1) @ E)
        return -(H + np.triu(H, 1).T)

    x0 = [1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5]
    return least_squares("osborne_2", r, J, W, x0, 4.01377e-2, None, _ref(19))
