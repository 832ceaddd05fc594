"""Probabilistic lower bound on lambda_min from Lanczos with a random start.

Lanczos never sees an eigenvalue whose eigenvector is (nearly) missing from its Krylov
space, so from products alone no deterministic lower bound on lambda_min exists ([1]:
for a deterministic start no algorithm using k products can guarantee any relative
accuracy). With a start vector b uniform on the unit sphere (:func:`curvopt.lanczos.
random_start`: a seeded standard-normal vector, normalized) the failure probability is
small and *independent of the spectrum*:

**Theorem** (Kuczynski & Wozniakowski 1992 [1], the probabilistic bound for the Lanczos
algorithm, Sec. 4; abstract: "at most as sqrt(n) e^{-(2k-1) sqrt(eps)}"). Let A be
n x n symmetric positive definite, b uniform on the unit sphere, and xi_k(A, b) the
largest Ritz value after k Lanczos steps, i.e. k products (Krylov space
span{b, Ab, ..., A^{k-1} b}). For 0 < eps < 1,

    P{ (lambda_max(A) - xi_k(A, b)) / lambda_max(A) >= eps }
        <= 1.648 sqrt(n) exp(-sqrt(eps) (2k - 1)).                            (KW)

The right side does not depend on A, so it also holds for positive *semi*definite A
(A + tI, t -> 0+, with ">" in place of ">=": Fatou's lemma).

**Smallest eigenvalue of an indefinite H (shift invariance).** For any c, Lanczos on
A = cI - H from b builds the same Krylov spaces as on H (K_k(cI - H, b) = K_k(H, b)), and
its Ritz values are c - theta_i. Take c = lambda_max(H): A is PSD, lambda_max(A) =
lambda_max(H) - lambda_min(H) =: s (the spread) and xi_k(A) = c - theta_min, so (KW) reads

    P{ theta_min - lambda_min(H) > eps * s } <= 1.648 sqrt(n) exp(-sqrt(eps) (2k - 1)).

The event only grows smaller if s is replaced by any S >= s. Hence, with probability at
least 1 - delta, ``lambda_min(H) >= theta_min - eps(k, n, delta) * S`` where
``eps(k, n, delta) = (ln(1.648 sqrt(n) / delta) / (2k - 1))^2`` (:func:`kw_epsilon`).
The same argument with c = lambda_min(H), A = H - cI, bounds lambda_max from above by the
largest Ritz value theta_max.

**What must be known: an upper bound S on the spread.** Two honest sources:

* rigorous: a norm bound when H is known, e.g. Gershgorin (:func:`gershgorin_spread`,
  [2] Thm. 7.2.1) for a sparse or dense H, or 2 ||H||_1 (any induced norm bounds |lambda|);
* probabilistic, from the same run: apply (KW) at both ends with delta/2 each (union
  bound over the two failure events of the *same* random b): with probability >= 1 -
  delta, s <= theta_max - theta_min + 2 eps s, i.e. s <= (theta_max - theta_min) /
  (1 - 2 eps) when eps = eps(k, n, delta/2) < 1/2.

Not covered: the theorem is about exact Lanczos with a fixed k chosen before the run (a
k picked from the data, e.g. stop when a residual is small, needs a union bound over the
candidate k). Full reorthogonalization keeps rounding at the level of a backward error
of order eps ||H|| ([3] Ch. 13), far below any eps of interest. Noisy products: if
the products are exact products of a fixed symmetric H~ with ||H~ - H||_2 <= err (a
formed finite-difference Hessian), the statement holds for H~ and Weyl's inequality
moves lambda_min by at most err (``err`` argument below); products that are not those of
a fixed linear operator (finite differences of gradients) are outside the theorem.

References
----------
.. [1] Kuczynski, J. & Wozniakowski, H. (1992). Estimating the largest eigenvalue by the
       power and Lanczos algorithms with a random start. SIAM J. Matrix Anal. Appl. 13(4),
       1094-1122.
.. [2] Golub, G. H. & Van Loan, C. F. (2013). Matrix Computations, 4th ed. Johns Hopkins.
.. [3] Parlett, B. N. (1998). The Symmetric Eigenvalue Problem. SIAM.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

__all__ = ["KW_CONSTANT", "kw_failure_probability", "kw_epsilon", "kw_steps",
           "gershgorin_spread", "LambdaMinBound", "lambda_min_lower_bound"]

KW_CONSTANT = 1.648
"""The constant of the Lanczos probabilistic bound (KW) of Kuczynski & Wozniakowski."""


def _int(x, name, lo=1):
    if isinstance(x, bool) or int(x) != x or x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def _prob(x, name):
    x = float(x)
    if not 0 < x < 1:
        raise ValueError(f"{name} must lie in (0, 1), got {x!r}")
    return x


def kw_failure_probability(k, n, epsilon):
    """Right side of (KW): 1.648 sqrt(n) exp(-sqrt(epsilon) (2k - 1)), capped at 1.

    Parameters
    ----------
    k : int
        Lanczos steps (products), >= 1.
    n : int
        Dimension.
    epsilon : float
        Relative accuracy in (0, 1): theta_min - lambda_min <= epsilon * spread.
    """
    k, n = _int(k, "k"), _int(n, "n")
    epsilon = _prob(epsilon, "epsilon")
    return float(min(1.0, KW_CONSTANT * np.sqrt(n) * np.exp(-np.sqrt(epsilon) * (2 * k - 1))))


def kw_epsilon(k, n, delta):
    """Relative accuracy guaranteed with probability >= 1 - delta after k steps.

    ``epsilon = (ln(1.648 sqrt(n) / delta) / (2k - 1))^2``, the solution of (KW) = delta,
    capped at 1 (relative error <= 1 always holds: lambda_min <= theta_min <= lambda_max).

    Parameters
    ----------
    k : int
        Lanczos steps from a uniform random start, fixed before the run.
    n : int
        Dimension.
    delta : float
        Failure probability in (0, 1).

    Returns
    -------
    float
        epsilon with P{theta_min - lambda_min > epsilon * spread} <= delta.
    """
    k, n = _int(k, "k"), _int(n, "n")
    delta = _prob(delta, "delta")
    L = np.log(KW_CONSTANT * np.sqrt(n) / delta)         # > 0: 1.648 sqrt(n) > 1 > delta
    return float(min(1.0, (L / (2 * k - 1)) ** 2))


def kw_steps(epsilon, n, delta):
    """Smallest k with (KW) <= delta: ``k = ceil((ln(1.648 sqrt(n)/delta)/sqrt(eps) + 1)/2)``,
    for a wanted relative accuracy ``epsilon`` in (0, 1), dimension ``n`` and failure
    probability ``delta`` in (0, 1) (the inverse of :func:`kw_epsilon` in k).

    Returns
    -------
    int
        Lanczos steps (may exceed n; then n steps give the spectrum exactly in exact
        arithmetic and the bound is not needed).
    """
    n = _int(n, "n")
    epsilon, delta = _prob(epsilon, "epsilon"), _prob(delta, "delta")
    L = np.log(KW_CONSTANT * np.sqrt(n) / delta)
    k = int(np.ceil((L / np.sqrt(epsilon) + 1.0) / 2.0))
    while k > 1 and kw_failure_probability(k - 1, n, epsilon) <= delta:   # rounding guard
        k -= 1
    while kw_failure_probability(k, n, epsilon) > delta:
        k += 1
    return k


def gershgorin_spread(H):
    """Rigorous upper bound on lambda_max - lambda_min of a symmetric H (Gershgorin).

    Every eigenvalue lies in some disc [h_ii - R_i, h_ii + R_i], R_i = sum_{j != i}
    |h_ij| ([2] Thm. 7.2.1), so the spread is at most max(h_ii + R_i) - min(h_ii - R_i).

    Parameters
    ----------
    H : ndarray or scipy.sparse matrix, shape (n, n)
    """
    if scipy.sparse.issparse(H):
        H = scipy.sparse.csr_array(H)
        d = H.diagonal()
        R = np.asarray(abs(H).sum(axis=1)).ravel() - np.abs(d)
    else:
        H = np.asarray(H, dtype=float)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be square, got shape {H.shape}")
        d = np.diag(H)
        R = np.abs(H).sum(axis=1) - np.abs(d)
    R = np.maximum(R, 0.0)                          # rounding of the subtraction
    return float(np.max(d + R) - np.min(d - R))


@dataclass(frozen=True)
class LambdaMinBound:
    """A lower bound on lambda_min(H) holding with probability >= 1 - delta.

    Attributes
    ----------
    lower : float
        The bound (-inf when the run is too short for any statement).
    epsilon : float
        Relative accuracy used (per end when ``spread_from == 'ritz'``).
    delta : float
        Total failure probability.
    spread : float
        The spread bound S used (given, or (theta_max - theta_min) / (1 - 2 eps)).
    spread_from : str
        ``'given'`` (caller's rigorous bound) or ``'ritz'`` (same run, union bound).
    """

    lower: float
    epsilon: float
    delta: float
    spread: float
    spread_from: str


def lambda_min_lower_bound(theta_min, theta_max, k, n, delta, *, spread=None, err=0.0):
    """Probabilistic lower bound on lambda_min(H) from a uniform random-start Lanczos run.

    Parameters
    ----------
    theta_min, theta_max : float
        Smallest and largest Ritz values after k steps from :func:`curvopt.lanczos.
        random_start` (``theta_max`` is used only when ``spread`` is None).
    k : int
        Steps, fixed before the run.
    n : int
        Dimension.
    delta : float
        Total failure probability in (0, 1).
    spread : float, optional
        A rigorous upper bound on lambda_max(H) - lambda_min(H) (e.g.
        :func:`gershgorin_spread`). Then ``lower = theta_min - kw_epsilon(k, n, delta) *
        (spread + 2 err) - err``. Without it the spread is bounded from the same run with
        delta/2 at each end (module docstring): ``lower = theta_min - eps (theta_max -
        theta_min) / (1 - 2 eps) - err``, eps = kw_epsilon(k, n, delta/2), and -inf when
        eps >= 1/2.
    err : float
        ||H~ - H||_2 when the products are exact products of a fixed symmetric H~ near H
        (Weyl); 0 for exact products.

    Returns
    -------
    LambdaMinBound
    """
    theta_min, theta_max, err = float(theta_min), float(theta_max), float(err)
    if not (np.isfinite(theta_min) and np.isfinite(theta_max)) or theta_max < theta_min:
        raise ValueError(f"need finite theta_min <= theta_max, got {theta_min}, {theta_max}")
    if not (err >= 0 and np.isfinite(err)):
        raise ValueError(f"err must be a finite number >= 0, got {err!r}")
    delta = _prob(delta, "delta")
    if spread is not None:
        spread = float(spread)
        if not (spread >= 0 and np.isfinite(spread)):
            raise ValueError(f"spread must be a finite number >= 0, got {spread!r}")
        eps = kw_epsilon(k, n, delta)
        S = spread + 2.0 * err                       # spread of H~ (Weyl at both ends)
        return LambdaMinBound(theta_min - eps * S - err, eps, delta, S, "given")
    eps = kw_epsilon(k, n, delta / 2.0)
    if eps >= 0.5:
        return LambdaMinBound(-np.inf, eps, delta, np.inf, "ritz")
    S = (theta_max - theta_min) / (1.0 - 2.0 * eps)
    return LambdaMinBound(theta_min - eps * S - err, eps, delta, S, "ritz")
