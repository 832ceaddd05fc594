"""Spectrum of a Hessian estimate with certified eigenvalue error bounds.

Let H be an estimate of the symmetric Hessian H* with an elementwise error bound
``|H - H*| <= B`` (``H_err`` of a :class:`~curvopt.model.LocalModel`). With E = H - H*,
Weyl's inequality ([1], Cor. 4.3.15) bounds every eigenvalue, in ascending order:

    |lam_k(H) - lam_k(H*)| <= ||E||_2 <= ||B||_2 <= ||B||_F.

The middle step holds because the spectral norm is monotone on nonnegative matrices:
``||E||_2 = max u'Ev <= max |u|'|E||v| <= max |u|'B|v| = ||B||_2`` over unit u, v ([1],
Thm. 8.1.18). We use ``||B||_2``, which is never larger (often ~sqrt(n) smaller) than the
Frobenius bound. The computed eigenvalues of ``eigh`` are themselves exact only for a
matrix within ``p(n) eps ||H||_2`` of H ([2], Sec. 8.1, backward stability of the symmetric
QR algorithm); we add the floor ``n eps ||H||_2`` (eps of H's dtype, at least float64's).
An eigenvalue is *certified* negative (positive) when ``lam < -lam_err`` (``lam > lam_err``)
with ``lam_err = ||B||_2 + floor``, and *indistinguishable from zero* when
``|lam| <= lam_err``. A NaN bound means "not estimated": nothing is certified.

References
----------
.. [1] Horn, R. A. & Johnson, C. R. (2013). Matrix Analysis, 2nd ed. Cambridge
   (Cor. 4.3.15: Weyl; Thm. 4.5.8: Sylvester's law of inertia).
.. [2] Golub, G. H. & Van Loan, C. F. (2013). Matrix Computations, 4th ed. Johns Hopkins.
.. [3] Higham, N. J. (1988). Computing a nearest symmetric positive semidefinite matrix.
       Linear Algebra Appl. 103, 103-118.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, aslinearoperator, eigsh


@dataclass(frozen=True)
class Spectrum:
    """Eigen-decomposition of the symmetrized H with a Weyl error bound.

    Attributes
    ----------
    lam : ndarray, shape (n,)
        Eigenvalues, ascending.
    V : ndarray, shape (n, n)
        Orthonormal eigenvectors, ``V[:, k]`` belongs to ``lam[k]``.
    weyl : float
        ``||H_err||_2``, the bound on ``||E||_2`` (NaN if any error is not estimated).
    floor : float
        Rounding floor of the eigensolver, ``n eps ||H||_2``.
    lam_err : float
        ``weyl + floor``: bound on ``|lam_k - lam_k(H*)|`` for every k.
    cond : float
        ``max|lam| / min|lam|`` (inf when some eigenvalue is exactly zero).
    rank : int
        Effective rank: eigenvalues with ``|lam| > lam_err`` (``> floor`` if NaN bound).
    d : ndarray or None
        For an equilibrated spectrum (:func:`spectrum_of` with ``scaled=True``): the
        diagonal scaling D; ``lam``, ``V`` are then those of A = D^-1 H D^-1.
    ray_err : ndarray or None
        Per eigenvector, ``|v_k|' B |v_k| + floor``: a bound on the error of the
        curvature *along* v_k, v_k'H v_k - v_k'H* v_k (a Rayleigh quotient, not an
        eigenvalue: it decides the curvature of f along that line, never the inertia).
        Never larger than ``lam_err``; None when no bound was given.
    """

    lam: np.ndarray
    V: np.ndarray
    weyl: float
    floor: float
    lam_err: float
    cond: float
    rank: int
    d: np.ndarray | None = None
    ray_err: np.ndarray | None = None

    def directions(self, mask) -> np.ndarray:
        """Unit x-space directions of the eigenvectors selected by ``mask``: the columns of
        V, or, for an equilibrated spectrum, of D^-1 V normalized (u'Au = w'Hw for
        w = D^-1 u, so signs of curvature carry over)."""
        W = self.V[:, mask]
        if self.d is None or W.shape[1] == 0:
            return W
        W = W / self.d[:, None]
        return W / np.linalg.norm(W, axis=0)

    @property
    def estimated(self) -> bool:
        """True when the error bound is finite (every error was estimated)."""
        return bool(np.isfinite(self.lam_err))

    @property
    def negative(self) -> np.ndarray:
        """Mask of eigenvalues certified < 0."""
        return self.lam < -self.lam_err if self.estimated else np.zeros(self.lam.shape, bool)

    @property
    def positive(self) -> np.ndarray:
        """Mask of eigenvalues certified > 0."""
        return self.lam > self.lam_err if self.estimated else np.zeros(self.lam.shape, bool)

    @property
    def zero(self) -> np.ndarray:
        """Mask of eigenvalues indistinguishable from 0 (``|lam| <= lam_err``)."""
        return np.abs(self.lam) <= self.lam_err if self.estimated else np.zeros(self.lam.shape, bool)


def definiteness(lam, f_eps) -> str:
    """Definiteness of H from its ascending eigenvalues, without error bounds: zero
    means within sqrt(eps_f) max|lam| (the relative accuracy of an FD Hessian at step
    eps_f^(1/4)). One of ``"positive definite"``, ``"negative definite"``,
    ``"indefinite"``, ``"singular"`` (the words the history and the plots use)."""
    tol = np.sqrt(f_eps) * float(np.max(np.abs(lam)))
    if lam[0] > tol:
        return "positive definite"
    if lam[-1] < -tol:
        return "negative definite"
    return "indefinite" if lam[0] < -tol and lam[-1] > tol else "singular"


def symmetrize(H) -> np.ndarray:
    """Return ``(H + H') / 2``, the nearest symmetric matrix in any unitarily invariant norm."""
    H = np.asarray(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square 2-D array, got shape {H.shape}")
    return 0.5 * (H + H.T)


def _eps(dtype) -> float:
    eps64 = float(np.finfo(np.float64).eps)
    if np.issubdtype(dtype, np.floating):
        return max(eps64, float(np.finfo(dtype).eps))
    return eps64


def weyl_bound(H_err) -> float:
    """``||B||_2`` of the symmetrized elementwise bound B (NaN if any entry is NaN)."""
    B = np.abs(np.asarray(H_err, dtype=np.float64))
    if not np.all(np.isfinite(B)):
        return float("nan")
    B = np.maximum(B, B.T)
    return float(np.linalg.norm(B, 2)) if B.size else 0.0


def equilibration(Hs) -> np.ndarray:
    """D_i = sqrt(max_j |H_ij|) (1 for an all-zero row): the diagonal scaling that brings
    every row of D^-1 H D^-1 to the same size."""
    m = np.max(np.abs(Hs), axis=1) if Hs.size else np.ones(0)
    return np.sqrt(np.where(m > 0, m, 1.0))


def spectrum_of(H, H_err=None, scaled=False) -> Spectrum:
    """Eigenvalues of the symmetrized H with a bound on their error.

    With ``scaled``, those of the equilibrated A = D^-1 H D^-1 (:func:`equilibration`) with
    the scaled bound D^-1 B D^-1: by Sylvester's law of inertia, A and H have the same
    numbers of positive, negative and zero eigenvalues for any nonsingular diagonal D,
    and the error of each entry is then judged against the scales of its own row and
    column, not against the largest entry of H ([1] Thm. 4.5.8). For a badly scaled H
    (parameters of sizes 1 and 1e-5) this certifies signs one Weyl bound on H cannot.

    Parameters
    ----------
    H : array_like, shape (n, n)
        Hessian estimate (need not be exactly symmetric).
    H_err : array_like, shape (n, n), optional
        Elementwise bound on ``|H - H*|``; None means exact (only the rounding floor).
    scaled : bool
        Decide on the equilibrated matrix (``Spectrum.d`` holds D).

    Returns
    -------
    Spectrum
    """
    H = np.asarray(H)
    Hs = symmetrize(H).astype(np.float64)
    if not np.all(np.isfinite(Hs)):
        raise ValueError("H contains non-finite entries")
    n = Hs.shape[0]
    if H_err is not None and np.shape(H_err) != (n, n):
        raise ValueError(f"H_err has shape {np.shape(H_err)}, expected {(n, n)}")
    d = None
    if scaled:
        d = equilibration(Hs)
        Hs = symmetrize(Hs / np.outer(d, d))
        if H_err is not None:
            H_err = np.asarray(H_err, dtype=np.float64) / np.outer(d, d)
    lam, V = np.linalg.eigh(Hs)
    norm2 = float(np.max(np.abs(lam))) if n else 0.0
    floor = n * _eps(H.dtype) * norm2
    weyl = 0.0 if H_err is None else weyl_bound(H_err)
    lam_err = weyl + floor
    absl = np.abs(lam)
    amin = float(absl.min()) if n else 0.0
    cond = float("inf") if amin == 0.0 else norm2 / amin
    cut = lam_err if np.isfinite(lam_err) else floor
    ray_err = None
    if H_err is not None:
        B = np.abs(np.asarray(H_err, dtype=np.float64))
        ray_err = np.einsum("ik,ij,jk->k", np.abs(V), np.maximum(B, B.T), np.abs(V)) + floor
        ray_err = np.minimum(ray_err, lam_err)      # NaN stays NaN
    return Spectrum(lam=lam, V=V, weyl=weyl, floor=floor, lam_err=lam_err,
                    cond=cond, rank=int(np.sum(absl > cut)), d=d, ray_err=ray_err)


def nearest_psd(H, floor: float = 0.0) -> np.ndarray:
    """Nearest symmetric PSD matrix in the Frobenius norm, by eigenvalue clipping [3].

    Returns ``V diag(max(lam, floor)) V'`` for the eigen-decomposition of the
    symmetrized H. A positive ``floor`` gives a matrix with ``lam_min >= floor``.
    """
    lam, V = np.linalg.eigh(symmetrize(np.asarray(H, dtype=np.float64)))
    return symmetrize((V * np.maximum(lam, floor)) @ V.T)


def shift_to(H, target_lam_min: float) -> np.ndarray:
    """Diagonal shift ``H + mu I`` with ``mu = target_lam_min - lam_min(H)``.

    The shifted (symmetrized) matrix has smallest eigenvalue ``target_lam_min`` (up to
    rounding); ``mu`` is negative when H is already above the target. Unlike
    :func:`nearest_psd` it changes every eigenvalue by the same amount and keeps the
    eigenvectors: the Levenberg-Marquardt / trust-region regularization.
    """
    Hs = symmetrize(np.asarray(H, dtype=np.float64))
    mu = float(target_lam_min) - float(np.linalg.eigvalsh(Hs)[0])
    return Hs + mu * np.eye(Hs.shape[0])


@dataclass(frozen=True)
class Extremes:
    """Extreme eigenpairs from :func:`lanczos_extremes` (None when not requested).

    Attributes
    ----------
    smallest, largest : ndarray, shape (k,), or None
        The k algebraically smallest / largest eigenvalues, ascending.
    V_smallest, V_largest : ndarray, shape (n, k), or None
        Their unit eigenvectors.
    nmatvec : int
        Hessian-vector products spent.
    """

    smallest: np.ndarray | None
    V_smallest: np.ndarray | None
    largest: np.ndarray | None
    V_largest: np.ndarray | None
    nmatvec: int


def _counting_operator(hessp, n: int):
    if callable(hessp) and not isinstance(hessp, LinearOperator):
        base = hessp
    else:
        A = aslinearoperator(hessp)
        if A.shape != (n, n):
            raise ValueError(f"operator has shape {A.shape}, expected {(n, n)}")
        base = A.matvec
    count = [0]

    def matvec(v):
        count[0] += 1
        Hv = np.asarray(base(np.ravel(v)), dtype=np.float64).ravel()
        if Hv.shape != (n,):
            raise ValueError(f"Hessian-vector product has shape {Hv.shape}, expected {(n,)}")
        return Hv

    return LinearOperator((n, n), matvec=matvec, dtype=np.float64), count


def lanczos_extremes(hessp, n: int, k: int = 1, which=("SA", "LA"), seed: int = 0,
                     tol: float = 0.0, maxiter: int | None = None) -> Extremes:
    """Extreme eigenvalues of a symmetric operator given by Hessian-vector products.

    Runs implicitly restarted Lanczos (ARPACK through ``scipy.sparse.linalg.eigsh``) on a
    ``LinearOperator`` of ``v -> H v`` with a seeded start vector ``v0``, so the result is
    reproducible. ``which='SA'`` gives the algebraically smallest eigenvalues (the
    negative curvature a saddle test needs), ``'LA'`` the largest. For ``n <= 2k + 10`` the
    matrix is formed from n products and diagonalized densely (ARPACK needs ``ncv < n``).

    Note: power iteration ``v <- H v / ||H v||`` multiplies the component of v along
    eigenvector k by ``lam_k`` at every step, so it converges to the eigenvalue of largest
    *magnitude*. For an indefinite H with ``lam = (-1.002, ..., 1.001)`` it returns
    -1.002, neither the largest nor (in general) the smallest eigenvalue; it needs a shift
    (``H + sigma I`` with known sigma) to target one end. Lanczos targets either end
    directly from the same products.

    Parameters
    ----------
    hessp : callable ``v -> H v``, LinearOperator or array, shape (n, n)
    n : int
        Dimension.
    k : int
        Eigenpairs wanted at each end.
    which : str or tuple of {'SA', 'LA'}
    seed : int
        Seed of ``np.random.default_rng`` for the start vector.
    tol, maxiter : passed to ``eigsh`` (tol=0 means machine precision).
    """
    which = (which,) if isinstance(which, str) else tuple(which)
    if not which or set(which) - {"SA", "LA"}:
        raise ValueError(f"which must be 'SA', 'LA' or both, got {which!r}")
    if int(n) != n or n < 1 or not 1 <= k <= n:
        raise ValueError(f"need n >= 1 and 1 <= k <= n, got n={n}, k={k}")
    op, count = _counting_operator(hessp, int(n))
    found = {}
    if n <= 2 * k + 10:
        Hd = symmetrize(np.column_stack([op.matvec(e) for e in np.eye(n)]))
        lam, V = np.linalg.eigh(Hd)
        found = {"SA": (lam[:k], V[:, :k]), "LA": (lam[n - k:], V[:, n - k:])}
    else:
        v0 = np.random.default_rng(seed).standard_normal(n)
        for w in which:
            lam, V = eigsh(op, k=k, which=w, v0=v0, tol=tol, maxiter=maxiter)
            order = np.argsort(lam)
            found[w] = (lam[order], V[:, order])
    sa = found["SA"] if "SA" in which else (None, None)
    la = found["LA"] if "LA" in which else (None, None)
    return Extremes(smallest=sa[0], V_smallest=sa[1], largest=la[0], V_largest=la[1],
                    nmatvec=count[0])
