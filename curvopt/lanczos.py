"""Lanczos with full reorthogonalization and rigorous Ritz-pair bounds, from products only.

Everything here sees the symmetric H only through a callable ``hessp: v -> H v`` and
counts the products. After k steps from a unit start q_1 the Lanczos relation is

    H Q_k' = Q_k' T_k + beta_{k+1} q_{k+1} e_k'           (the Lanczos relation, [1] Sec. 10.1)

with Q_k (stored k x n, rows q_1..q_k orthonormal) and T_k tridiagonal (diagonal alpha,
off-diagonal beta_2..beta_k). Full reorthogonalization (classical Gram-Schmidt against
all previous q_j, repeated when the norm drops below 1/sqrt(2) of its value: the Daniel-
Gragg-Kaufman-Stewart test, "twice is enough", [2] Ch. 6) keeps Q_k orthonormal to
working precision, so no spurious copies of converged Ritz values appear.
beta_{k+1} ~ 0 is a breakdown: span(Q_k) is an invariant subspace and the Ritz values are
exact eigenvalues of H. From a random start (every eigen-direction present with
probability 1) they are then *all* the distinct eigenvalues of H.

Rigorous statements for a Ritz pair (theta, y = Q_k' s), each recomputed with one
explicit product H y. ``err`` bounds the error of that product for the unit Ritz vector,
||(H y)_computed - H y|| <= err (e.g. a finite-difference bound on a Hessian-vector
product with a unit direction; 0 for exact products); the rounding of a dot
product adds at most gamma_n |y|'|Hy| <= n eps ||y|| ||Hy|| (we use 2 n eps):

* residual bound ([2] Thm. 4.5.1, Krylov-Weinberger): with
  r = H y - theta y, some eigenvalue lambda of H has |lambda - theta| <= ||r|| / ||y||.
  We report ``resid`` = the explicit ||(Hy)_computed - theta y|| / ||y|| and
  ``resid_bound`` = resid + (err + rounding) / ||y||, the rigorous radius; the cheap
  Lanczos estimate beta_{k+1} |s_k| (equal to ||r|| in exact arithmetic, [2] Ch. 13)
  is kept as ``resid_lanczos`` for comparison only.
* Rayleigh quotient (Courant-Fischer, [1] Thm. 8.1.2): lambda_min(H) <= y'Hy / y'y, and
  |y'(Hy)_computed - y'Hy| <= ||y|| err. So ``rayleigh + rayleigh_err`` is a rigorous upper
  bound on lambda_min(H), and ``rayleigh + rayleigh_err < 0`` *proves* negative curvature.

Lanczos cannot see eigenvalues whose directions are missing from its Krylov space, so any
lower bound on lambda_min is only probabilistic: see :mod:`curvopt.kw_bound`.

References
----------
.. [1] Golub, G. H. & Van Loan, C. F. (2013). Matrix Computations, 4th ed. Johns Hopkins.
.. [2] Parlett, B. N. (1998). The Symmetric Eigenvalue Problem. SIAM (Classics 20).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal

__all__ = ["LanczosResult", "RitzPair", "RitzExtremes", "lanczos", "random_start",
           "ritz_values", "ritz_pair", "ritz_extremes"]

_EPS = np.finfo(float).eps


def _as_vector(v, name):
    v = np.asarray(v, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} has non-finite entries")
    return v


def apply_hessp(hessp, v):
    """``hessp(v)`` as a float64 vector of v's shape; ValueError if it is not one."""
    w = np.asarray(hessp(v.copy()), dtype=float)     # a copy: hessp may not mutate Q
    if w.shape != v.shape:
        if w.size != v.size:
            raise ValueError(f"hessp returned shape {w.shape}, expected {v.shape}")
        w = w.reshape(v.shape)
    if not np.all(np.isfinite(w)):
        raise ValueError("hessp returned non-finite values")
    return w


def random_start(n, seed=0):
    """A start vector uniform on the unit sphere: seeded standard normal, normalized.

    Parameters
    ----------
    n : int
        Dimension.
    seed : int
        Seed of ``np.random.default_rng``.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    x = np.random.default_rng(seed).standard_normal(int(n))
    return x / np.linalg.norm(x)


class LanczosProcess:
    """Incremental Lanczos on ``hessp`` from a unit q_1, full reorthogonalization.

    ``step()`` adds one basis vector (one product). Attributes: ``k`` (steps taken),
    ``alpha``, ``beta`` (lists; ``beta[j]`` = beta_{j+2} couples q_{j+1} and q_{j+2}, so
    ``beta[k-1]`` = beta_{k+1} is the size of the residual), ``nprod``, ``breakdown``.
    Q grows by doubling, so only ``k x n`` floats are held (plus slack < k n).
    """

    def __init__(self, hessp, q1, kmax, breakdown_tol=None):
        self.hessp, self.n, self.kmax = hessp, q1.size, int(kmax)
        self._Q = np.empty((min(self.kmax + 1, 16), self.n))
        self._Q[0] = q1
        self.alpha, self.beta = [], []
        self.k = self.nprod = 0
        self.breakdown = False
        self.tol = (8.0 * np.sqrt(self.n) * _EPS if breakdown_tol is None
                    else float(breakdown_tol))
        self._anorm = 0.0                     # running lower estimate of ||H||_2

    @property
    def Q(self):
        """Basis, shape (k, n), rows orthonormal."""
        return self._Q[:self.k]

    @property
    def q_next(self):
        """q_{k+1} (unit), or None after a breakdown / before the first step."""
        return None if self.breakdown or self.k == 0 else self._Q[self.k]

    @property
    def beta_next(self):
        """beta_{k+1}: 0.0 after a breakdown (invariant subspace)."""
        return 0.0 if self.breakdown or self.k == 0 else self.beta[-1]

    def step(self):
        """One Lanczos step; returns False (and does nothing) if none is possible."""
        j = self.k
        if self.breakdown or j >= self.kmax:
            return False
        q = self._Q[j]
        w = apply_hessp(self.hessp, q)
        self.nprod += 1
        a = float(q @ w)
        w -= a * q
        if j > 0:
            w -= self.beta[-1] * self._Q[j - 1]
        Qj = self._Q[:j + 1]
        b0 = float(np.linalg.norm(w))
        w -= Qj.T @ (Qj @ w)                  # full reorthogonalization ...
        b = float(np.linalg.norm(w))
        if b < 0.7071 * b0:                   # ... and again if cancellation (DGKS test)
            w -= Qj.T @ (Qj @ w)
            b = float(np.linalg.norm(w))
        self._anorm = max(self._anorm, abs(a) + b + (self.beta[-1] if j else 0.0))
        self.alpha.append(a)
        self.beta.append(b)
        self.k = j + 1
        if b <= self.tol * self._anorm or self.k >= self.n:
            self.breakdown = True             # invariant subspace: H Q' = Q' T exactly
            return True
        if self.k >= self._Q.shape[0]:
            grown = np.empty((min(2 * self._Q.shape[0], self.kmax + 1), self.n))
            grown[:self.k] = self._Q[:self.k]
            self._Q = grown
        self._Q[self.k] = w / b
        return True

    def result(self):
        q_next = self.q_next
        return LanczosResult(np.array(self.alpha), np.array(self.beta),
                             self.Q.copy(), self.nprod, self.breakdown,
                             None if q_next is None else q_next.copy())


@dataclass(frozen=True)
class LanczosResult:
    """Output of :func:`lanczos`.

    Attributes
    ----------
    alpha : ndarray, shape (k,)
        Diagonal of T_k.
    beta : ndarray, shape (k,)
        ``beta[:-1]`` is the off-diagonal of T_k; ``beta[-1]`` = beta_{k+1} = ||r_k||,
        the residual of the Lanczos relation (rounding level after a breakdown).
    Q : ndarray, shape (k, n)
        Orthonormal basis of the Krylov space, one vector per row.
    nprod : int
        Products ``hessp`` was called for (= k).
    breakdown : bool
        True when beta_{k+1} fell below the tolerance: span(Q) is invariant under H and
        the Ritz values are eigenvalues of H (all distinct ones, from a random start).
    q_next : ndarray or None
        q_{k+1}, so that ``H Q' = Q' T + beta[-1] q_next e_k'``; None after a breakdown.
    """

    alpha: np.ndarray
    beta: np.ndarray
    Q: np.ndarray
    nprod: int
    breakdown: bool
    q_next: np.ndarray | None = None

    @property
    def k(self):
        return int(self.alpha.size)

    @property
    def T(self):
        """T_k as a dense (k, k) array."""
        off = self.beta[:-1]
        return np.diag(self.alpha) + np.diag(off, 1) + np.diag(off, -1)


def lanczos(hessp, v0, k, *, breakdown_tol=None):
    """k steps of Lanczos with full reorthogonalization ([1] Sec. 10.1 and 10.3).

    Parameters
    ----------
    hessp : callable
        ``v -> H v`` for a symmetric H (float64 1-D arrays).
    v0 : array_like, shape (n,)
        Start vector (normalized here). For the probabilistic bound of
        :mod:`curvopt.kw_bound` it must be uniform on the sphere: :func:`random_start`.
    k : int
        Steps (= products), 1 <= k <= n. Fewer are taken after a breakdown.
    breakdown_tol : float, optional
        Breakdown when beta_{j+1} <= breakdown_tol * (running estimate of ||H||).
        Default ``8 sqrt(n) eps``, the rounding level of a product and of the
        reorthogonalization. Raise it to the relative error of noisy products.

    Returns
    -------
    LanczosResult
    """
    v0 = _as_vector(v0, "v0")
    nv = float(np.linalg.norm(v0))
    if nv == 0:
        raise ValueError("v0 must be nonzero")
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= v0.size:
        raise ValueError(f"k must be an integer in [1, n={v0.size}], got {k!r}")
    if not callable(hessp):
        raise TypeError("hessp must be callable: v -> H v")
    proc = LanczosProcess(hessp, v0 / nv, int(k), breakdown_tol)
    while proc.step():
        pass
    return proc.result()


def ritz_values(alpha, beta_off):
    """Eigen-decomposition of the tridiagonal T (ascending), ``eigh_tridiagonal``."""
    return eigh_tridiagonal(np.asarray(alpha, float), np.asarray(beta_off, float))


@dataclass(frozen=True)
class RitzPair:
    """A Ritz pair with bounds recomputed from one explicit product.

    Attributes
    ----------
    theta : float
        Ritz value (eigenvalue of T_k).
    y : ndarray, shape (n,)
        Ritz vector Q_k' s (unit to rounding).
    Hy : ndarray, shape (n,)
        The computed product H y.
    rayleigh : float
        y'(Hy)_computed / y'y.
    rayleigh_err : float
        Bound on |rayleigh - y'Hy / y'y|: (||y|| err + 2 n eps ||y|| ||Hy||) / y'y.
    resid : float
        Explicit ||(Hy)_computed - theta y|| / ||y||.
    resid_bound : float
        Rigorous: some eigenvalue of H lies within ``resid_bound`` of ``theta``
        (resid plus the product error and rounding).
    resid_lanczos : float
        beta_{k+1} |s_k|, the Lanczos estimate of ||r|| (not used for any bound).
    """

    theta: float
    y: np.ndarray
    Hy: np.ndarray
    rayleigh: float
    rayleigh_err: float
    resid: float
    resid_bound: float
    resid_lanczos: float

    @property
    def lambda_min_upper(self):
        """Rigorous upper bound on lambda_min(H): rayleigh + rayleigh_err."""
        return self.rayleigh + self.rayleigh_err

    @property
    def lambda_max_lower(self):
        """Rigorous lower bound on lambda_max(H): rayleigh - rayleigh_err."""
        return self.rayleigh - self.rayleigh_err

    @property
    def proves_negative_curvature(self):
        """True when y'Hy < 0 is certain despite the product error: H is not PSD."""
        return bool(self.lambda_min_upper < 0)


def _check_err(err):
    err = float(err)
    if not err >= 0 or not np.isfinite(err):
        raise ValueError(f"err must be a finite number >= 0, got {err!r}")
    return err


def ritz_pair(hessp, lz, index, *, err=0.0):
    """Ritz pair ``index`` (0 = smallest, -1 = largest) of a :class:`LanczosResult`.

    One explicit product H y. ``err`` bounds the product error for the unit vector y,
    ||(H y)_computed - H y|| <= err (e.g. a finite-difference bound); 0 for exact
    products. Then |y'(Hy)_computed - y'Hy| <= ||y|| err (Cauchy-Schwarz) and the true
    residual exceeds the computed one by at most err. Returns :class:`RitzPair`.
    """
    err = _check_err(err)
    theta, S = ritz_values(lz.alpha, lz.beta[:-1])
    s = S[:, index]
    y = lz.Q.T @ s
    Hy = apply_hessp(hessp, y)
    n = y.size
    ny, nHy = float(np.linalg.norm(y)), float(np.linalg.norm(Hy))
    t = float(theta[index])
    rnd = 2.0 * n * _EPS * nHy                            # gamma_n |y|'|Hy| / ||y||
    rayleigh = float(y @ Hy) / (ny * ny)
    r = float(np.linalg.norm(Hy - t * y)) / ny
    rnd_r = 2.0 * _EPS * (nHy + abs(t) * ny) / ny + n * _EPS * r
    return RitzPair(theta=t, y=y, Hy=Hy, rayleigh=rayleigh,
                    rayleigh_err=(err + rnd) / ny, resid=r,
                    resid_bound=r + (err + rnd_r) / ny,
                    resid_lanczos=float(lz.beta[-1] * abs(s[-1])))


@dataclass(frozen=True)
class RitzExtremes:
    """Smallest and largest Ritz pairs of one Lanczos run.

    Attributes
    ----------
    lowest, highest : RitzPair
    theta : ndarray
        All Ritz values, ascending.
    k : int
        Lanczos steps (the k of :func:`curvopt.kw_bound.kw_epsilon`).
    nprod : int
        Products used here (explicit residuals only: 2, or 1 when k = 1).
    breakdown : bool
        The run found an invariant subspace.
    """

    lowest: RitzPair
    highest: RitzPair
    theta: np.ndarray
    k: int
    nprod: int
    breakdown: bool


def ritz_extremes(hessp, lz, *, err=0.0):
    """Both extreme Ritz pairs with explicit residuals and Rayleigh quotients.

    Parameters
    ----------
    hessp : callable
        The same ``v -> H v`` the Lanczos run used.
    lz : LanczosResult
    err : float
        Product error bound, see :func:`ritz_pair`.

    Returns
    -------
    RitzExtremes
    """
    theta = ritz_values(lz.alpha, lz.beta[:-1])[0]
    lo = ritz_pair(hessp, lz, 0, err=err)
    hi = lo if lz.k == 1 else ritz_pair(hessp, lz, -1, err=err)
    return RitzExtremes(lo, hi, theta, lz.k, 1 if lz.k == 1 else 2, lz.breakdown)
