"""Large-n test problems: exact gradients, Hessian-vector products and sparsity patterns.

Every problem is a :class:`LargeProblem` for any size n (the default n is the one of the
large-n issue) with the fields of :class:`~curvopt.problems.Problem` plus ``hessp(x, p)``,
``hess_sparsity`` (the structural pattern of H, a ``scipy.sparse.csr_array`` of bool,
where H is sparse) and ``vectorized``. ``f`` is the function itself, not a wrapper, so
that a solver can detect an ``@njit`` dispatcher; ``hess`` assembles the dense n x n
Hessian and is meant for small n only. Indices below are 1-based, as in the sources.

1. ``chained_rosenbrock_jit`` (n = 100): scipy's ``rosen``, the chained form of
   Rosenbrock (1960), f = sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, written with
   ``@njit(cache=True)``; start (-1.2, 1, -1.2, 1, ...), f* = 0 at x* = 1. Tridiagonal H.
   A second local minimum near (-1, 1, ..., 1) (Kok & Sandrock 2009) has, for n >= 20,
   f = 3.986623854300934 (trust-exact, exact derivatives, n = 40 to 1000): ``f_local``.
2. ``spd_quadratic`` (n = 500): f = (x - c)'A(x - c) / 2 with A = U diag(lam) U',
   lam log-spaced in [1, 1e4] (condition number 1e4), U the Q factor of a Gaussian matrix
   and c ~ N(0, I), both from ``default_rng(seed)``; start 0, f* = 0 at c. Dense H.
3. ``coupled_quartic`` (n = 1000): with d = x - 1,
   f = sum_i (d_i^4 + d_i^2) + (sum_i x_i - n)^2 / n; H = diag(12 d^2 + 2) + (2/n) 1 1'
   is positive definite everywhere, so x* = 1 (f* = 0) is the unique minimizer, with
   H(x*) = 2 I + (2/n) 1 1'. ``f`` also takes an (n, m) array of points and returns m
   values (``vectorized=True``); start linspace(-1, 3, n). Dense H (rank-one coupling).
4. ``tridia`` (n = 1000): CUTEst TRIDIA (Shanno's quadratic tridiagonal problem),
   f = gamma (delta x_1 - 1)^2 + sum_{i>=2} i (alpha x_i - beta x_{i-1})^2 with
   alpha = 2, beta = gamma = delta = 1; start 1, f* = 0 at x*_i = 2^(1-i).
5. ``ext_rosenbrock`` (n = 1000, even): More, Garbow & Hillstrom (1981) problem 21,
   f = sum_i 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2; start (-1.2, 1, ...),
   f* = 0 at 1. H is block diagonal (2 x 2 blocks).
6. ``broyden_tridiagonal`` (n = 1000): MGH problem 30, f = sum_i r_i^2 with
   r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1 (x_0 = x_{n+1} = 0); start -1, f* = 0.
   J is tridiagonal, H = 2 (J'J - 4 diag(r)) pentadiagonal; x*: Newton's root of r.
7. ``tridia_jit`` (n = 10^5): TRIDIA with f written with ``@njit(cache=True)``.
8. ``double_well_chain`` (n = 1000): f = sum_i (x_i^2 - 1)^2 / 4
   + (mu / 2) sum_{i<n} (x_{i+1} - x_i)^2, mu = 1, started exactly at the strict saddle
   x0 = 0: g(0) = 0 and H(0) = -I + mu L (L the path graph's Laplacian) has eigenvalues
   -1 + 2 mu (1 - cos(k pi / n)), k = 0..n-1, in [-1, 3): lam_min = -1 along the constant
   vector, about a third of them negative. Global minima f* = 0 at +-1, where
   H = 2 I + mu L; domain walls (+1 on one side, -1 on the other) are local minima with f > 0.

Patterns: the nonzeros of H at a seeded random point, which for these polynomials are
the structural nonzeros (an entry vanishing there would need an exact cancellation).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.linalg import solve_banded
from scipy.optimize import rosen_der

from ._base import Problem, _vec, mgh_ref
from .accuracy import _rosen_f, _rosen_grad
from .saddles import _DW_REF

__all__ = ["LargeProblem", "large_problems", "large_problem", "band_matvec", "band_matrix",
           "chained_rosenbrock_jit", "spd_quadratic", "coupled_quartic", "tridia",
           "ext_rosenbrock", "broyden_tridiagonal", "tridia_jit", "double_well_chain"]

_ALPHA, _BETA, _GAMMA, _DELTA = 2.0, 1.0, 1.0, 1.0       # TRIDIA SIF parameters (Buckley #40)
_TRIDIA_REF = ("CUTEst TRIDIA (SIF input Ph. Toint, Dec 1989; classification QUR2-AN-V-0): "
               "Shanno's quadratic tridiagonal problem, problem 8 of Ph. L. Toint, 'Test "
               "problems for partially separable optimization and results for the routine "
               "PSPMIN', Report 83/4, FUNDP Namur (1983); Buckley #40. SIF file "
               "GrattonToint/S2MPJ sif/TRIDIA.SIF (commit d49a737): alpha = 2, beta = gamma = "
               "delta = 1, start 1, lower bound 0; x*_i = 2^(1-i) (closed form)")
_ROSEN_REF = ("scipy.optimize.rosen: the chained generalization of H. H. Rosenbrock (1960), "
              "Comput. J. 3(3), 175-184; start (-1.2, 1, -1.2, ...), f* = 0 at x* = 1; local "
              "minimum near (-1, 1, ..., 1): S. Kok & C. Sandrock (2009), 'Locating and "
              "characterizing the stationary points of the extended Rosenbrock function', "
              "Evol. Comput. 17(3), 437-453")
_ROSEN_LOCAL = 3.986623854300934        # its value for n >= 20 (module docstring)


@dataclass(frozen=True, eq=False)
class LargeProblem(Problem):
    """A :class:`~curvopt.problems.Problem` for large n.

    Attributes
    ----------
    hessp : callable
        ``hessp(x, p) -> H(x) p``, exact, O(n) memory for the sparse problems.
    hess_sparsity : scipy.sparse.csr_array of bool or None
        Symmetric structural pattern of H (diagonal included); None when H is dense.
    vectorized : bool
        ``f`` also takes an (n, m) array of points and returns m values.

    Notes
    -----
    ``f`` is the problem's own function (an ``@njit`` dispatcher for the jitted ones);
    ``hess`` forms the dense n x n matrix, for small n only.
    """

    hessp: Callable | None = None
    hess_sparsity: sp.csr_array | None = None
    vectorized: bool = False


def _large(name, f, grad, hess, hessp, x0, f_star, x_star, reference, *, sparsity=None,
           tags=(), saddle=None, f_local=(), vectorized=False) -> LargeProblem:
    """Build a `LargeProblem`: ``n`` from `x0`, frozen arrays, the functions as given."""
    x0 = _vec(x0)
    return LargeProblem(name=name, n=x0.size, f=f, grad=grad, hess=hess, x0=x0,
                        f_star=float(f_star), x_star=_vec(x_star), reference=reference,
                        tags=tuple(tags), saddle=_vec(saddle), f_local=tuple(f_local),
                        hessp=hessp, hess_sparsity=sparsity, vectorized=vectorized)


# -- banded Hessians -----------------------------------------------------------------
def band_matvec(bands, p):
    """Return H p for the symmetric banded H whose k-th superdiagonal is ``bands[k]``.

    Parameters
    ----------
    bands : sequence of ndarray
        ``bands[0]`` the diagonal (length n), ``bands[k]`` the k-th superdiagonal
        (length n - k), equal to the k-th subdiagonal.
    p : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n,)
    """
    q = bands[0] * p
    for k, d in enumerate(bands[1:], start=1):
        q[:-k] += d * p[k:]
        q[k:] += d * p[:-k]
    return q


def band_matrix(bands):
    """The symmetric banded H of `band_matvec` as a ``scipy.sparse.csr_array``."""
    k = np.arange(1, len(bands))
    return sp.diags_array([bands[0], *bands[1:], *bands[1:]],
                          offsets=np.concatenate(([0], k, -k)), format="csr")


def _banded(name, f, grad, bands, x0, f_star, x_star, reference, **kw) -> LargeProblem:
    """A `LargeProblem` whose H is given by its bands: hessp, dense hess and pattern."""
    n = len(x0)

    def hessp(x, p):
        return band_matvec(bands(x), np.asarray(p, dtype=float))

    def hess(x):
        return band_matrix(bands(x)).toarray()

    probe = np.random.default_rng(n).uniform(-2.0, 2.0, n)     # generic point
    pattern = sp.csr_array(abs(band_matrix(bands(probe))) > 0)
    return _large(name, f, grad, hess, hessp, x0, f_star, x_star, reference,
                  sparsity=pattern, **kw)


# -- 1. chained Rosenbrock -------------------------------------------------------------
@njit(cache=True)
def _chained_rosen_jit(x):  # pragma: no cover - jit
    s = 0.0
    for i in range(x.shape[0] - 1):
        t = x[i + 1] - x[i] * x[i]
        u = 1.0 - x[i]
        s += 100.0 * t * t + u * u
    return s


def _chained_rosen_bands(x):
    d0 = np.zeros_like(x)
    d0[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    d0[1:] += 200.0
    return d0, -400.0 * x[:-1]


def _alternating_start(n):
    return np.resize([-1.2, 1.0], n)


def chained_rosenbrock_jit(n=100):
    """Problem 1: scipy's ``rosen`` as an ``@njit`` function (gradient ``rosen_der``)."""
    return _banded("chained_rosenbrock_jit_%d" % n, _chained_rosen_jit, rosen_der,
                   _chained_rosen_bands, _alternating_start(n), 0.0, np.ones(n), _ROSEN_REF,
                   f_local=(_ROSEN_LOCAL,) if n >= 20 else ())


# -- 2. dense SPD quadratic --------------------------------------------------------------
def spd_quadratic(n=500, cond=1e4, seed=0):
    """Problem 2: (x - c)'A(x - c) / 2, A SPD of condition `cond`, seeded; x: (n,) or (n, m)."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (U * np.logspace(0.0, np.log10(cond), n)) @ U.T
    A = 0.5 * (A + A.T)
    c = rng.standard_normal(n)

    def f(x):
        d = (x.T - c).T                                  # x - c for a point or each column
        return 0.5 * (float(d @ (A @ d)) if x.ndim == 1 else np.sum(d * (A @ d), axis=0))

    return _large("spd_quadratic_%d" % n, f, lambda x: A @ (x - c), lambda x: A.copy(),
                  lambda x, p: A @ p, np.zeros(n), 0.0, c,
                  "f = (x - c)'A(x - c)/2, A = U diag(logspace(0, log10 %g, n)) U', U from "
                  "the QR factor of a Gaussian matrix, c ~ N(0, I), default_rng(%d)"
                  % (cond, seed), vectorized=True)


# -- 3. coupled separable quartic ---------------------------------------------------------
def coupled_quartic(n=1000):
    """Problem 3: sum (d^4 + d^2) + (sum x - n)^2 / n, d = x - 1; f takes (n,) or (n, m)."""
    def f(x):
        d = x - 1.0
        return np.sum(d ** 4 + d * d, axis=0) + (np.sum(x, axis=0) - n) ** 2 / n

    def grad(x):
        d = x - 1.0
        return 4.0 * d ** 3 + 2.0 * d + 2.0 * (np.sum(x) - n) / n

    def curvature(x):
        return 12.0 * (x - 1.0) ** 2 + 2.0

    def hessp(x, p):
        return curvature(x) * p + 2.0 * np.sum(p) / n

    def hess(x):
        return np.diag(curvature(x)) + 2.0 / n

    return _large("coupled_quartic_%d" % n, f, grad, hess, hessp, np.linspace(-1.0, 3.0, n),
                  0.0, np.ones(n), "separable quartic sum (x_i - 1)^4 + (x_i - 1)^2 with the "
                  "coupling (sum x_i - n)^2 / n; strictly convex, f* = 0 at x* = 1",
                  vectorized=True)


# -- 4, 7. TRIDIA --------------------------------------------------------------------------
@njit(cache=True)
def _tridia_jit(x):  # pragma: no cover - jit
    t = _DELTA * x[0] - 1.0
    s = _GAMMA * t * t
    for i in range(1, x.shape[0]):
        t = _ALPHA * x[i] - _BETA * x[i - 1]
        s += (i + 1) * t * t
    return s


def _tridia_terms(x):
    """Group weights i = 2..n and residuals alpha x_i - beta x_{i-1} of TRIDIA."""
    return np.arange(2.0, x.size + 1), _ALPHA * x[1:] - _BETA * x[:-1]


def _tridia_f(x):
    w, r = _tridia_terms(x)
    return _GAMMA * (_DELTA * x[0] - 1.0) ** 2 + float(w @ (r * r))


def _tridia_grad(x):
    w, r = _tridia_terms(x)
    g = np.zeros_like(x)
    g[0] = 2.0 * _GAMMA * _DELTA * (_DELTA * x[0] - 1.0)
    g[1:] += 2.0 * _ALPHA * w * r
    g[:-1] -= 2.0 * _BETA * w * r
    return g


def _tridia_bands(x):
    w = np.arange(2.0, x.size + 1)
    d0 = np.zeros_like(x)
    d0[0] = 2.0 * _GAMMA * _DELTA ** 2
    d0[1:] += 2.0 * _ALPHA ** 2 * w
    d0[:-1] += 2.0 * _BETA ** 2 * w
    return d0, -2.0 * _ALPHA * _BETA * w


def tridia(n=1000, jit=False):
    """Problems 4 and 7: CUTEst TRIDIA, f from numpy or (``jit=True``) ``@njit``."""
    name = ("tridia_jit_%d" if jit else "tridia_%d") % n
    return _banded(name, _tridia_jit if jit else _tridia_f, _tridia_grad, _tridia_bands,
                   np.ones(n), 0.0, 0.5 ** np.arange(n), _TRIDIA_REF)


def tridia_jit(n=100_000):
    """Problem 7: TRIDIA with an ``@njit(cache=True)`` f, n = 10^5 by default."""
    return tridia(n, jit=True)


# -- 5. extended Rosenbrock ------------------------------------------------------------------
def _ext_rosen_bands(x):
    u, v = x[0::2], x[1::2]
    d0, d1 = np.empty_like(x), np.zeros(x.size - 1)
    d0[0::2], d0[1::2] = 1200.0 * u * u - 400.0 * v + 2.0, 200.0
    d1[0::2] = -400.0 * u
    return d0, d1


def ext_rosenbrock(n=1000):
    """Problem 5: MGH 21 for even n, with its 2 x 2 block-diagonal pattern."""
    if n % 2:
        raise ValueError("extended Rosenbrock needs an even n; got %d" % n)
    return _banded("ext_rosenbrock_%d" % n, _rosen_f, _rosen_grad, _ext_rosen_bands,
                   _alternating_start(n), 0.0, np.ones(n), mgh_ref(21))


# -- 6. Broyden tridiagonal ----------------------------------------------------------------------
def _broyden_r(x):
    r = (3.0 - 2.0 * x) * x + 1.0
    r[1:] -= x[:-1]
    r[:-1] -= 2.0 * x[1:]
    return r


def _broyden_f(x):
    r = _broyden_r(x)
    return float(r @ r)


def _broyden_grad(x):
    """2 J'r: J has diagonal 3 - 4 x, subdiagonal -1, superdiagonal -2."""
    r = _broyden_r(x)
    Jtr = (3.0 - 4.0 * x) * r
    Jtr[:-1] -= r[1:]
    Jtr[1:] -= 2.0 * r[:-1]
    return 2.0 * Jtr


def _broyden_bands(x):
    """Bands of 2 (J'J - 4 diag(r))."""
    a = 3.0 - 4.0 * x
    d0 = a * a - 4.0 * _broyden_r(x)
    d0[:-1] += 1.0                      # (J_{i+1,i})^2 = 1
    d0[1:] += 4.0                       # (J_{i-1,i})^2 = 4
    return 2.0 * d0, 2.0 * (-2.0 * a[:-1] - a[1:]), np.full(x.size - 2, 4.0)


def _broyden_root(x, steps=20):
    """Newton's method on r(x) = 0 with the tridiagonal J (scipy's banded solver)."""
    for _ in range(steps):
        ab = np.zeros((3, x.size))
        ab[0, 1:], ab[1], ab[2, :-1] = -2.0, 3.0 - 4.0 * x, -1.0
        x = x - solve_banded((1, 1), ab, _broyden_r(x))
    return x


def broyden_tridiagonal(n=1000):
    """Problem 6: MGH 30 as a sum of squares, pentadiagonal H."""
    x0 = -np.ones(n)
    return _banded("broyden_tridiagonal_%d" % n, _broyden_f, _broyden_grad, _broyden_bands,
                   x0, 0.0, _broyden_root(x0), mgh_ref(30, "; x* by Newton's method on r"))


# -- 8. coupled double wells at a strict saddle ----------------------------------------------
def double_well_chain(n=1000, mu=1.0):
    """Problem 8: double wells coupled along a chain, started at the strict saddle 0."""
    def f(x):
        return 0.25 * float(np.sum((x * x - 1.0) ** 2)) + 0.5 * mu * float(np.sum(np.diff(x) ** 2))

    def grad(x):
        g = x * (x * x - 1.0)
        dx = np.diff(x)
        g[:-1] -= mu * dx
        g[1:] += mu * dx
        return g

    def bands(x):
        d0 = 3.0 * x * x - 1.0 + 2.0 * mu
        d0[[0, -1]] -= mu                   # the chain's ends have one neighbour
        return d0, np.full(x.size - 1, -mu)

    return _banded("double_well_chain_%d" % n, f, grad, bands, np.zeros(n), 0.0, np.ones(n),
                   _DW_REF + "; chain coupling mu/2 sum (x_{i+1} - x_i)^2, mu = %g, started at "
                   "the strict saddle 0 (lam_min = -1 along the constant vector)" % mu,
                   tags=("saddle_start",), saddle=np.zeros(n))


_BUILDERS = {"chained_rosenbrock_jit": chained_rosenbrock_jit, "spd_quadratic": spd_quadratic,
             "coupled_quartic": coupled_quartic, "tridia": tridia,
             "ext_rosenbrock": ext_rosenbrock, "broyden_tridiagonal": broyden_tridiagonal,
             "tridia_jit": tridia_jit, "double_well_chain": double_well_chain}


def large_problem(kind, n=None) -> LargeProblem:
    """Build the large problem `kind` (a key of the module docstring's list) at size `n`.

    Parameters
    ----------
    kind : str
        ``"chained_rosenbrock_jit"``, ``"spd_quadratic"``, ``"coupled_quartic"``,
        ``"tridia"``, ``"ext_rosenbrock"``, ``"broyden_tridiagonal"``, ``"tridia_jit"`` or
        ``"double_well_chain"``.
    n : int, optional
        Number of variables; the problem's default (the large-n issue's size) if omitted.

    Raises
    ------
    ValueError
        If `kind` is unknown.
    """
    if kind not in _BUILDERS:
        raise ValueError("unknown large problem %r; known: %s" % (kind, ", ".join(_BUILDERS)))
    return _BUILDERS[kind]() if n is None else _BUILDERS[kind](int(n))


def large_problems() -> list[LargeProblem]:
    """The eight large problems at their default sizes (module docstring)."""
    return [build() for build in _BUILDERS.values()]
