"""The `Problem` record and the sum-of-squares builder shared by the test sets.

Most More-Garbow-Hillstrom problems are nonlinear least squares,

    f(x) = sum_i r_i(x)^2 = r'r,

so that, with J the Jacobian of r (More, Garbow & Hillstrom 1981, eq. 1.1;
Nocedal & Wright 2006, eqs. 10.4-10.5, without their factor 1/2),

    grad f(x) = 2 J'r,
    hess f(x) = 2 (J'J + sum_i r_i hess r_i).

A least-squares problem is therefore given by three functions of x: `r(x)`
(shape (m,)), `J(x)` (shape (m, n)) and `W(x, w) = sum_i w_i hess r_i(x)`
(shape (n, n)), the weighted sum of the residual Hessians; `hess` calls it
with w = r.  Everything is plain float64 numpy, so that the values can be
checked against a peer library's finite differences.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Problem", "least_squares", "make_problem", "mgh_ref", "wsum"]


@dataclass(frozen=True, eq=False)
class Problem:
    """A smooth unconstrained test problem with exact derivatives.

    Attributes
    ----------
    name : str
        Short unique identifier, e.g. ``"rosenbrock"`` or ``"watson_6"``.
    n : int
        Number of variables.
    f, grad, hess : callable
        ``f(x) -> float``, ``grad(x) -> (n,)`` and ``hess(x) -> (n, n)``,
        analytic (no finite differences), float64.
    x0 : ndarray
        Standard starting point (a copy is handed out by `start`).
    f_star : float or None
        Documented optimal (global minimum) value; None when unknown.
    x_star : ndarray or None
        A minimizer with ``f(x_star) == f_star`` when one is known exactly
        (or to the digits the source gives); None otherwise.
    reference : str
        Citation of the problem and of the values `x0`, `f_star`.
    tags : tuple of str
        Properties, e.g. ``("badly_scaled",)``, ``("saddle_start",)``,
        ``("symmetry_line",)``, ``("singular_hessian",)``.
    saddle : ndarray or None
        For saddle problems: the strict saddle point the start sits on
        (``"saddle_start"``) or flows into (``"symmetry_line"``).
    f_local : tuple of float
        Other documented local-minimum values (a solver may legitimately
        end at one of them).
    """

    name: str
    n: int
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    hess: Callable[[np.ndarray], np.ndarray]
    x0: np.ndarray
    f_star: float | None
    x_star: np.ndarray | None
    reference: str
    tags: tuple[str, ...] = ()
    saddle: np.ndarray | None = None
    f_local: tuple[float, ...] = field(default=())

    def start(self) -> np.ndarray:
        """Return a fresh copy of the standard starting point."""
        return np.array(self.x0, dtype=float)


def _vec(x) -> np.ndarray | None:
    if x is None:
        return None
    a = np.array(x, dtype=float).ravel()
    a.setflags(write=False)
    return a


def make_problem(name, f, grad, hess, x0, f_star, x_star, reference,
                 tags=(), saddle=None, f_local=()) -> Problem:
    """Build a `Problem`: float64 wrappers of f, grad, hess, frozen arrays, ``n`` from `x0`."""
    x0 = _vec(x0)

    def f64(x):
        return float(f(np.asarray(x, dtype=float)))

    def grad64(x):
        return np.asarray(grad(np.asarray(x, dtype=float)), dtype=float)

    def hess64(x):
        return np.asarray(hess(np.asarray(x, dtype=float)), dtype=float)

    return Problem(name=name, n=x0.size, f=f64, grad=grad64, hess=hess64, x0=x0,
                   f_star=None if f_star is None else float(f_star),
                   x_star=_vec(x_star), reference=reference,
                   tags=tuple(tags), saddle=_vec(saddle),
                   f_local=tuple(float(v) for v in f_local))


def least_squares(name, r, J, W, x0, f_star, x_star, reference,
                  tags=(), saddle=None, f_local=()) -> Problem:
    """Build the `Problem` f = r'r from residuals, Jacobian and weighted Hessians.

    Parameters
    ----------
    r, J, W : callable
        ``r(x) -> (m,)``, ``J(x) -> (m, n)``, and
        ``W(x, w) -> sum_i w[i] * hess r_i(x)`` of shape (n, n).
    Other parameters are those of `Problem`.
    """
    def f(x):
        ri = r(x)
        return ri @ ri

    def grad(x):
        return 2.0 * (J(x).T @ r(x))

    def hess(x):
        Jx = J(x)
        H = 2.0 * (Jx.T @ Jx + W(x, r(x)))
        return 0.5 * (H + H.T)

    return make_problem(name, f, grad, hess, x0, f_star, x_star, reference,
                        tags=tags, saddle=saddle, f_local=f_local)


def mgh_ref(k, note=""):
    """Citation string of More-Garbow-Hillstrom problem number `k`."""
    return ("More, Garbow & Hillstrom (1981), ACM TOMS 7(1) 17-41, problem %d%s"
            % (k, note))


def wsum(w, a, b=None):
    """Return sum_i w_i a_i b_i' for the rows a_i, b_i of `a`, `b` (b = a if omitted)."""
    return (a * w[:, None]).T @ (a if b is None else b)


def by_name(problems, name, what="problem"):
    """The problem called `name` in a list (ValueError naming the known ones if none)."""
    for p in problems:
        if p.name == name:
            return p
    raise ValueError("unknown %s %r; known: %s"
                     % (what, name, ", ".join(p.name for p in problems)))
