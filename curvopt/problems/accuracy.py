"""Accuracy set for the finite-difference kernels: analytic f, gradient and Hessian.

* ``rosenbrock``: extended Rosenbrock (More, Garbow & Hillstrom 1981, problem 21), n = 100,
  f = sum_i 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2, at the standard start
  (-1.2, 1, -1.2, 1, ...): badly scaled (entries from 2 to ~1300, most zero).
* ``logistic``: logistic-regression negative log-likelihood, n = 100, 500 rows,
  f(w) = sum_k log(1 + exp(a_k'w)) - y_k a_k'w, hess = A' diag(s (1 - s)) A with
  s = sigmoid(A w) (e.g. Hastie, Tibshirani & Friedman 2009, sec. 4.4.1).
  A ~ N(0, 1/n) and y ~ Bernoulli(1/2) from ``default_rng(1)``, w ~ N(0, 1) from ``default_rng(2)``.
* ``quadratic``: f = x'Qx/2 - b'x with Q = U diag(lam) U', lam log-spaced in [1, 1e6]
  (condition number 1e6), U orthogonal from the QR factor of a ``default_rng(3)`` Gaussian,
  b and x from ``default_rng(4)``: ill-conditioned, zero truncation error, so the bound must
  cover the rounding of f alone.

Each problem has ``f`` (numpy), ``f_jit`` (numba ``@njit``, same formula, called as
``f_jit(x, *args)``), ``grad``, ``hess`` and the point ``x`` where they are compared.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit

__all__ = ["AccuracyProblem", "accuracy_problems", "rosenbrock", "logistic", "quadratic"]


@dataclass(frozen=True, eq=False)
class AccuracyProblem:
    """A test function with exact derivatives and the point where they are compared."""

    name: str
    x: np.ndarray
    args: tuple
    f: Callable
    f_jit: Callable
    grad: Callable
    hess: Callable


@njit(cache=True)
def _rosen_jit(x):  # pragma: no cover - jit
    s = 0.0
    for i in range(0, x.shape[0] - 1, 2):
        t = x[i + 1] - x[i] * x[i]
        s += 100.0 * t * t + (1.0 - x[i]) * (1.0 - x[i])
    return s


def _rosen_f(x):
    u, v = x[0::2], x[1::2]
    return float(np.sum(100.0 * (v - u * u) ** 2 + (1.0 - u) ** 2))


def _rosen_grad(x):
    u, v = x[0::2], x[1::2]
    g = np.empty_like(x, dtype=np.float64)
    g[0::2] = -400.0 * u * (v - u * u) - 2.0 * (1.0 - u)
    g[1::2] = 200.0 * (v - u * u)
    return g


def _rosen_hess(x):
    u, v = x[0::2], x[1::2]
    H = np.zeros((x.size, x.size))
    i = np.arange(0, x.size, 2)
    H[i, i] = 1200.0 * u * u - 400.0 * v + 2.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * u
    H[i + 1, i + 1] = 200.0
    return H


def rosenbrock(n=100):
    """Extended Rosenbrock at the standard start (n even)."""
    x = np.tile([-1.2, 1.0], n // 2)
    return AccuracyProblem("rosenbrock", x, (), _rosen_f, _rosen_jit, _rosen_grad, _rosen_hess)


@njit(cache=True)
def _logistic_jit(w, A, y):  # pragma: no cover - jit
    s = 0.0
    for k in range(A.shape[0]):
        z = 0.0
        for j in range(A.shape[1]):
            z += A[k, j] * w[j]
        s += max(z, 0.0) + np.log1p(np.exp(-abs(z))) - y[k] * z
    return s


def logistic(n=100, m=500):
    """Logistic-regression NLL with seeded data (see the module docstring)."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    y = (rng.random(m) < 0.5).astype(np.float64)
    w = np.random.default_rng(2).standard_normal(n)

    def f(w, A=A, y=y):
        z = A @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    def grad(w):
        return A.T @ (1.0 / (1.0 + np.exp(-(A @ w))) - y)

    def hess(w):
        s = 1.0 / (1.0 + np.exp(-(A @ w)))
        return (A.T * (s * (1.0 - s))) @ A

    return AccuracyProblem("logistic", w, (A, y), f, _logistic_jit, grad, hess)


@njit(cache=True)
def _quad_jit(x, Q, b):  # pragma: no cover - jit
    return 0.5 * (x @ (Q @ x)) - b @ x


def quadratic(n=100, cond=1e6):
    """SPD quadratic with condition number ``cond`` (see the module docstring)."""
    U, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((n, n)))
    Q = (U * np.logspace(0.0, np.log10(cond), n)) @ U.T
    Q = 0.5 * (Q + Q.T)
    rng = np.random.default_rng(4)
    b, x = rng.standard_normal(n), rng.standard_normal(n)
    return AccuracyProblem("quadratic", x, (Q, b), lambda x, Q=Q, b=b: float(0.5 * x @ Q @ x - b @ x),
                           _quad_jit, lambda x: Q @ x - b, lambda x: Q.copy())


def accuracy_problems():
    """The three problems of the accuracy claim (n = 100)."""
    return [rosenbrock(), logistic(), quadratic()]
