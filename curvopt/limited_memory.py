"""Limited-memory SR1 (L-SR1) model in compact form, with its exact trust-region step.

With at most m pairs S = [s_1 .. s_k], Y = [y_1 .. y_k] (n x k) and B0 = gamma I, the SR1
recursion (Nocedal & Wright 2006 eq. 6.24) from B0 over the pairs is ([1] Thm. 5.1)

    B = gamma I + Psi M^{-1} Psi',   Psi = Y - gamma S,   M = D + L + L' - gamma S'S,

D = diag(s_i'y_i), L the strictly lower triangle of S'Y. S and Y are stored as (m, n) rows,
with the k x k matrices S'Y, S'S and M = L_M diag(d) L_M' (unit lower L_M): the pivot d_j is
the SR1 denominator s_j'r_j, r_j = y_j - B_{j-1} s_j, of pair j in the recursion (Schur
complement of the leading block of M), so M is nonsingular iff every pivot is nonzero.

Skip rule and singularity threshold: a pair is kept iff |d_j| >= r ||s_j|| ||r_j||, r = 1e-8
(N&W eq. 6.26, ``curvopt.quasi_newton.SR1_SKIP``), and |d_j| >= PIVOT_TOL ||s_j|| (||y_j|| +
||B_{j-1} s_j||), PIVOT_TOL = 1e-10, below which the rounding error of d_j (~ sqrt(n) eps
||s|| (||y|| + ||Bs||)) is not small against d_j: M numerically singular. A new pair is
tested against the current B; beyond m pairs the oldest is dropped, and after a drop or a
change of gamma the recursion over the kept pairs is re-checked in order, removing the pairs
that fail. B is thus always the dense SR1 recursion from gamma I over :meth:`LSR1.pairs`.

Spectrum ([3] sec. 2; [4] sec. 2): thin QR Psi = Q R, R M^{-1} R' = U diag(Lam) U', so
B = gamma I + P diag(Lam) P', P = Q U (n x r, r = min(n, k), orthonormal): eigenvalues
gamma + Lam_i on span(P) and gamma (multiplicity n - r) on the complement.

Subproblem ("OBS", [4] sec. 3): with g_par = P'g and g_perp = g - P g_par, B is diagonal on
span(P, g_perp) with r + 1 eigenvalue blocks (gamma with gradient ||g_perp||). This diagonal
problem is solved exactly by :func:`curvopt.subproblem.solve_trust_region` (safeguarded
Newton on 1/||p(mu)|| - 1/delta = 0, N&W eq. 4.39 and Alg. 4.3; hard case N&W eq. 4.45 with
both signs) and lifted back as p = P a + b g_perp/||g_perp|| in O(r n).

Cost: products, appending a pair, curvatures O(k n); a drop, a re-check or the spectrum
(cached) O(k^2 n). Memory: 2 m n + r n floats and m x m matrices.

References
----------
.. [1] Byrd, R. H., Nocedal, J. & Schnabel, R. B. (1994). Representations of quasi-Newton
       matrices and their use in limited memory methods. Math. Prog. 63, 129-156.
.. [2] Nocedal, J. & Wright, S. J. (2006). Numerical Optimization, 2nd ed. Springer.
.. [3] Burdakov, O., Gong, L., Zikrin, S. & Yuan, Y. (2017). On efficiently combining
       limited-memory and trust-region techniques. Math. Prog. Comp. 9, 101-134.
.. [4] Brust, J., Erway, J. B. & Marcia, R. F. (2017). On solving L-SR1 trust-region
       subproblems. Comput. Optim. Appl. 66, 245-266.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.linalg import solve_triangular

from curvopt.quasi_newton import SR1_SKIP
from curvopt.subproblem import Step, solve_trust_region

__all__ = ["LSR1", "LSR1Spectrum", "PIVOT_TOL"]

PIVOT_TOL = 1e-10                  # relative size below which a pivot d_j counts as 0
_EPS = np.finfo(float).eps
_GAMMA_RULES = ("yy_sy", "fixed")


@dataclass(frozen=True)
class LSR1Spectrum:
    """B = gamma I + P diag(lam - gamma) P', exact ([3] sec. 2; [4] sec. 2).

    Attributes
    ----------
    gamma : float
        Eigenvalue of B on the complement of span(P) (dimension n - r).
    lam, P : ndarray, shapes (r,) and (n, r)
        Ascending eigenvalues gamma + Lam_i on span(P); orthonormal eigenvectors.
    n : int
    """

    gamma: float
    lam: np.ndarray
    P: np.ndarray
    n: int

    @property
    def lambda_min(self) -> float:
        """Smallest eigenvalue of B."""
        return float(min(list(self.lam[:1]) + [self.gamma] * (self.lam.size < self.n)))

    def eigenvalues(self) -> np.ndarray:
        """All n eigenvalues, ascending (O(n) memory; for tests and reports)."""
        return np.sort(np.concatenate([self.lam, np.full(self.n - self.lam.size, self.gamma)]))

    def complement_vector(self, w=None) -> np.ndarray:
        """Unit vector orthogonal to span(P): the projection of ``w`` when it is nonzero,
        else of the coordinate vector e_i with the smallest ||P'e_i|| (<= r/n < 1).
        Projected twice (classical Gram-Schmidt, "twice is enough")."""
        if self.lam.size >= self.n:
            raise ValueError("span(P) is the whole space: B has no gamma eigenspace")
        P = self.P
        for u in ([] if w is None else [np.array(w, float)]) + [None]:
            if u is None:
                i = int(np.argmin(np.einsum("ij,ij->i", P, P)))
                u = -(P @ P[i])
                u[i] += 1.0
            for _ in range(2):
                u -= P @ (P.T @ u)
            nu = float(np.linalg.norm(u))
            if nu > 0:
                return u / nu

    def min_eigenvector(self, w=None) -> np.ndarray:
        """Unit eigenvector for :attr:`lambda_min`: P[:, 0], or a complement vector
        (projection of ``w``, else of a coordinate vector) when gamma is the smallest."""
        if self.lam.size < self.n and (self.lam.size == 0 or self.gamma <= self.lam[0]):
            return self.complement_vector(w)
        return self.P[:, 0].copy()


class LSR1:
    """Limited-memory SR1 matrix B = gamma I + Psi M^{-1} Psi' ([1] Thm. 5.1).

    Parameters
    ----------
    n, m : int
        Dimension; maximum number of stored pairs (default 5).
    gamma : float, default 1.0
        Initial B0 = gamma I (any finite real; negative values are allowed).
    gamma_rule : {"yy_sy", "fixed"}, default "yy_sy"
        ``"yy_sy"``: on each :meth:`update` with s'y > 0, gamma <- y'y / s'y of that pair
        (whether or not the pair passes the skip rule; the reciprocal of the L-BFGS scaling,
        N&W eq. 7.20), which re-checks the kept pairs (O(k^2 n)); else gamma is kept.
        ``"fixed"``: gamma changes only through :meth:`set_gamma` (e.g. to a finite-
        difference curvature estimate supplied by the caller).

    Attributes
    ----------
    n, m, gamma, gamma_rule
        As given (gamma current).
    n_skipped, n_removed : int
        Pairs rejected when offered; stored pairs removed by a re-check.
    """

    def __init__(self, n, m=5, *, gamma=1.0, gamma_rule="yy_sy"):
        for name, val in (("n", n), ("m", m)):
            if isinstance(val, bool) or not isinstance(val, Integral):
                raise TypeError(f"{name} must be an int, got {type(val).__name__}")
            if val < 1:
                raise ValueError(f"{name} must be >= 1, got {val}")
        if gamma_rule not in _GAMMA_RULES:
            raise ValueError(f"gamma_rule must be one of {_GAMMA_RULES}, got {gamma_rule!r}")
        self.n, self.m, self.gamma_rule = int(n), int(m), gamma_rule
        self.gamma = _real(gamma, "gamma")
        self._S, self._Y = np.zeros((m, n)), np.zeros((m, n))    # row i: s_i, oldest first
        self._SY, self._SS = np.zeros((m, m)), np.zeros((m, m))  # (S'Y)_ij = s_i'y_j
        self._LM, self._d = np.eye(m), np.zeros(m)               # M = L_M diag(d) L_M'
        self._k, self._spec = 0, None
        self.n_skipped = self.n_removed = 0

    @property
    def k(self) -> int:
        """Number of stored pairs."""
        return self._k

    def pairs(self):
        """Copies of the stored (S, Y), each of shape (k, n), oldest row first."""
        return self._S[:self._k].copy(), self._Y[:self._k].copy()

    @property
    def M(self) -> np.ndarray:
        """M = D + L + L' - gamma S'S, shape (k, k) ([1] Thm. 5.1)."""
        SY = self._SY[:self._k, :self._k]
        low = np.tril(SY, -1)
        return np.diag(np.diag(SY)) + low + low.T - self.gamma * self._SS[:self._k, :self._k]

    def set_gamma(self, gamma) -> None:
        """Set B0 = gamma I and re-check the stored pairs (O(k^2 n)). With the rule
        ``"yy_sy"`` the value lasts until the next :meth:`update`."""
        gamma = _real(gamma, "gamma")
        if gamma != self.gamma:
            self.gamma = gamma
            self._refactor(0)

    def update(self, s, y) -> bool:
        """Offer the pair (s, y) (SR1 update N&W eq. 6.24 with skip rule eq. 6.26).

        Returns True when the pair is stored. With more than m pairs the oldest is
        dropped and the kept pairs are re-checked (module docstring).
        """
        s, y = self._vec(s, "s"), self._vec(y, "y")
        sy, yy = float(s @ y), float(y @ y)
        if self.gamma_rule == "yy_sy" and sy > 0 and np.isfinite(yy / sy):
            self.set_gamma(yy / sy)
        return self._append(s, y)

    def correct_curvature(self, v, c) -> bool:
        """B <- B + (c - v'Bv) v v' for a unit v (normalized here) and measured curvature c
        (cf. :func:`curvopt.quasi_newton.confirm_curvature`).

        Implemented as adding the SR1 pair (s, y) = (v, Bv + (c - v'Bv) v), not as a
        separate term: its residual is r = (c - v'Bv) v, r's = c - v'Bv, so the SR1 update
        is exactly that rank-one term (gamma is not changed). It takes a memory slot and
        ages out like any pair; when memory is full the oldest pair is dropped, so B
        changes by more than the rank-one term, but Bv = B_old v + (c - v'B_old v) v and
        v'Bv = c still hold (secant condition of the newest pair). False: skipped
        (e.g. c = v'Bv to rounding), B unchanged.
        """
        v, c = self._vec(v, "v"), _real(c, "c")
        v = v / _nonzero(v)
        Bv = self.matvec(v)
        return self._append(v, Bv + (c - float(v @ Bv)) * v)

    def matvec(self, v) -> np.ndarray:
        """B v for v of shape (n,) or (n, j), in O(k n j)."""
        v = np.asarray(v, dtype=float)
        if v.ndim not in (1, 2) or v.shape[0] != self.n:
            raise ValueError(f"v must have shape (n,) or (n, j) with n = {self.n}, got {v.shape}")
        out = self.gamma * v
        k = self._k
        if k:
            S, Y = self._S[:k], self._Y[:k]
            z = self._minv(Y @ v - self.gamma * (S @ v))
            out = out + (Y.T @ z - self.gamma * (S.T @ z))
        return out

    def curvature(self, v) -> float:
        """Rayleigh quotient v'Bv / v'v along a nonzero direction v, O(k n)."""
        v = self._vec(v, "v")
        return float(v @ self.matvec(v)) / _nonzero(v) ** 2

    def to_dense(self) -> np.ndarray:
        """The dense n x n matrix B (O(n^2) memory: for tests and small n only)."""
        k, B = self._k, self.gamma * np.eye(self.n)
        if k:
            PsiT = self._Y[:k] - self.gamma * self._S[:k]
            B += PsiT.T @ self._minv(PsiT)
        return 0.5 * (B + B.T)

    def spectrum(self) -> LSR1Spectrum:
        """Exact eigendecomposition ([3] sec. 2; [4] sec. 2), O(k^2 n), cached: Psi = Q R,
        R M^{-1} R' = Z' diag(d)^{-1} Z (Z = L_M^{-1} R') = U diag(Lam) U', P = Q U."""
        if self._spec is None:
            k, n = self._k, self.n
            if k == 0:
                lam, P = np.zeros(0), np.zeros((n, 0))
            else:
                Q, R = np.linalg.qr((self._Y[:k] - self.gamma * self._S[:k]).T)
                Z = solve_triangular(self._LM[:k, :k], R.T, lower=True, unit_diagonal=True)
                core = Z.T @ (Z / self._d[:k, None])
                Lam, U = np.linalg.eigh(0.5 * (core + core.T))
                lam, P = self.gamma + Lam, Q @ U
            self._spec = LSR1Spectrum(self.gamma, lam, P, n)
        return self._spec

    def lambda_min(self, w=None):
        """(lambda_min(B), unit eigenvector); in the gamma eigenspace the vector is the
        projection of ``w`` (e.g. g) when given and nonzero, else of a coordinate vector."""
        sp = self.spectrum()
        return sp.lambda_min, sp.min_eigenvector(None if w is None else self._vec(w, "w"))

    def solve_subproblem(self, g, delta, *, g_tol=None, lam_tol=None) -> Step:
        """Global minimizer of g'p + p'Bp/2 subject to ||p|| <= delta ([4] sec. 3, OBS).

        Parameters
        ----------
        g : ndarray, shape (n,)
        delta : float
            Trust radius, > 0.
        g_tol, lam_tol : float, optional
            As in :func:`curvopt.subproblem.solve_trust_region`, with the full n in the
            defaults ``n eps ||g||`` and ``n eps max|lambda(B)|``.

        Returns
        -------
        Step
            ``kind`` "newton", "boundary" or "hard_case" (with ``alt``, the other sign
            along the bottom eigenvector, which may lie in the gamma eigenspace).
        """
        g, delta = self._vec(g, "g"), _real(delta, "delta")
        if delta <= 0:
            raise ValueError(f"delta must be > 0, got {delta}")
        sp = self.spectrum()
        P, r, n, u = sp.P, sp.lam.size, self.n, None
        c, gt = sp.lam, P.T @ g                   # gt = g_par
        if r < n:                                  # gamma block: gradient norm ||g_perp||
            g_perp = g - P @ gt
            corr = P.T @ g_perp                    # re-orthogonalize (twice is enough)
            g_perp, gt = g_perp - P @ corr, gt + corr
            gn = float(np.linalg.norm(g_perp))
            u = g_perp / gn if gn > 0 else sp.complement_vector()
            c, gt = np.append(c, self.gamma), np.append(gt, gn)
        if lam_tol is None:
            lam_tol = n * _EPS * float(np.max(np.abs(c)))
        if g_tol is None:
            g_tol = n * _EPS * float(np.linalg.norm(g))
        order = np.argsort(c, kind="stable")
        st = solve_trust_region(gt[order], c[order], np.eye(c.size), delta,
                                g_tol=g_tol, lam_tol=lam_tol)

        def lift(pt):                              # O(r n)
            a = np.empty_like(pt)
            a[order] = pt
            p = P @ a[:r]
            return p + a[r] * u if r < n else p

        alt = None if st.alt is None else lift(st.alt)
        return Step(lift(st.p), st.kind, st.hard_case, st.mu, st.predicted_reduction, alt)

    def _vec(self, x, name):
        try:
            x = np.array(x, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of reals: {exc}") from None
        if x.shape != (self.n,):
            raise ValueError(f"{name} must have shape ({self.n},), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be finite")
        return x

    def _minv(self, u):
        """M^{-1} u from M = L_M diag(d) L_M' (u of shape (k,) or (k, j))."""
        k = self._k
        z = solve_triangular(self._LM[:k, :k], u, lower=True, unit_diagonal=True)
        z = z / (self._d[:k] if z.ndim == 1 else self._d[:k, None])
        return solve_triangular(self._LM[:k, :k], z, lower=True, trans="T", unit_diagonal=True)

    def _pivot(self, s, y, a, p):
        """Pivot of (s, y) after the first p stored pairs, given a = Psi_p's: (ok, l, d) with
        l = diag(d)^{-1} L_M^{-1} a (new row of L_M), d = s'(y - B_p s), ok by the rules."""
        Bs = self.gamma * s
        l = np.zeros(0)
        if p:
            l = solve_triangular(self._LM[:p, :p], a, lower=True, unit_diagonal=True) / self._d[:p]
            w = solve_triangular(self._LM[:p, :p], l, lower=True, trans="T", unit_diagonal=True)
            Bs = Bs + (w @ self._Y[:p] - self.gamma * (w @ self._S[:p]))
        r = y - Bs
        d, ns, nr = float(s @ r), float(np.linalg.norm(s)), float(np.linalg.norm(r))
        scale = ns * (float(np.linalg.norm(y)) + float(np.linalg.norm(Bs)))
        ok = bool(np.isfinite(d) and d != 0 and abs(d) >= SR1_SKIP * ns * nr
                  and abs(d) >= PIVOT_TOL * scale)
        return ok, l, d

    def _append(self, s, y):
        k = self._k
        S, Y = self._S[:k], self._Y[:k]
        Ss, Ys, Sy = S @ s, Y @ s, S @ y
        ok, l, d = self._pivot(s, y, Ys - self.gamma * Ss, k)
        self.n_skipped += not ok
        if not ok:
            return False
        full, self._spec = k == self.m, None
        if full:                                   # drop the oldest, re-check the rest
            self._delete(0)
            Ss, Ys, Sy, k = Ss[1:], Ys[1:], Sy[1:], k - 1
        self._S[k], self._Y[k] = s, y
        self._SY[k, :k], self._SY[:k, k], self._SY[k, k] = Ys, Sy, s @ y
        self._SS[k, :k], self._SS[:k, k], self._SS[k, k] = Ss, Ss, s @ s
        self._k = k + 1
        if not full:                               # prefix unchanged: the pivot stands
            self._LM[k, :k], self._LM[k, k], self._d[k] = l, 1.0, d
            return True
        return self._refactor(0)

    def _refactor(self, start):
        """Re-run the recursion over stored pairs start..k-1 (prefix factors kept),
        removing the pairs that fail; True when the newest pair survives."""
        self._spec = None
        p, newest = start, True
        while p < self._k:
            a = self._SY[p, :p] - self.gamma * self._SS[:p, p]     # Psi_p' s_p
            ok, l, d = self._pivot(self._S[p], self._Y[p], a, p)
            if ok:
                self._LM[p, :p], self._LM[p, p], self._d[p] = l, 1.0, d
                p += 1
            else:
                newest = newest and p < self._k - 1
                self._delete(p)
                self.n_removed += 1
        return newest

    def _delete(self, i):
        """Remove stored pair i (rows of S, Y; rows and columns of S'Y, S'S)."""
        k = self._k
        for A in (self._S, self._Y, self._SY, self._SS):
            A[i:k - 1] = A[i + 1:k].copy()
        for A in (self._SY, self._SS):
            A[:k, i:k - 1] = A[:k, i + 1:k].copy()
        self._k, self._spec = k - 1, None


def _real(x, name):
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return float(x)


def _nonzero(v):
    nv = float(np.linalg.norm(v))
    if nv == 0:
        raise ValueError("v must be nonzero")
    return nv

