"""Sparse Hessians from few products: graph colouring, seed matrices and direct recovery.

Let P be the symmetric sparsity pattern of H (diagonal included) and d_c = S[:, c] the
columns of the *seed matrix* S (n x k) with S[j, c(j)] = h_j: the k products
``B = H S`` (exact Hessian-vector products, or central differences of a gradient,
``B[:, c] ~ (g(x + d_c) - g(x - d_c)) / 2``) form the *compressed Hessian*, and H is
read from B entry by entry (*direct recovery*, no linear solve):

* CPR grouping ([1], [2]): columns in one group have disjoint row patterns (a distance-2
  colouring of the adjacency graph of P), so row i holds at most one nonzero column of
  group c and ``A_ij = B[i, c(j)] / h_j`` estimates every nonzero H_ij.  H is the mean of
  A_ij and A_ji, with the bound ``max(e_ij, e_ji) + |A_ij - A_ji| / 2`` covering both.
* Star colouring ([3], [4]): a distance-1 colouring in which every path on 4 vertices
  uses at least 3 colours.  Recovery rule, for i < j with H_ij structurally nonzero:
  ``H_ij = B[i, c(j)] / h_j`` if j is the only neighbour of i (in P) coloured c(j),
  otherwise ``H_ij = B[j, c(i)] / h_i``; the star property guarantees the second case is
  then valid (else k-i-j-l with c(k) = c(j), c(l) = c(i) would be a 2-coloured P4).
  Diagonal: ``H_ii = B[i, c(i)] / h_i``.  Each entry is read once, so H is symmetric.

An elementwise bound on B maps to H by the same reads and divisions.  Greedy orderings:
``"largest_first"`` (LFO of [2]: decreasing degree, ties by index; for CPR the degree
in the column-intersection graph is replaced by its upper bound sum_{i in col j} |row i|,
which needs no P'P) or ``"natural"`` (0, 1, ..., n-1).

With function values only, one value is one number: colouring saves nothing, and the
cheapest direct scheme is the 4-point stencil of :mod:`curvopt.fd.stencils` restricted to
P (:class:`PatternStencil`): 4 values per upper off-diagonal nonzero, 2 per diagonal.

References
----------
.. [1] Curtis, A. R., Powell, M. J. D. & Reid, J. K. (1974). On the estimation of sparse
       Jacobian matrices. IMA J. Appl. Math. 13, 117-119.
.. [2] Coleman, T. F. & More, J. J. (1983). Estimation of sparse Jacobian matrices and
       graph coloring problems. SIAM J. Numer. Anal. 20, 187-209.
.. [3] Coleman, T. F. & More, J. J. (1984). Estimation of sparse Hessian matrices and
       graph coloring problems. Math. Program. 28, 243-270.
.. [4] Gebremedhin, A. H., Manne, F. & Pothen, A. (2005). What color is your Jacobian?
       Graph coloring for computing derivatives. SIAM Review 47(4), 629-705.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["hess_pattern", "cpr_coloring", "star_coloring", "Coloring", "pattern_stencil",
           "PatternStencil"]

ORDERS = ("largest_first", "natural")   # greedy orderings, all deterministic


def hess_pattern(sparsity, n=None):
    """Symmetric boolean pattern ``P | P' | I`` (CSR, sorted indices) of a Hessian.

    Parameters
    ----------
    sparsity : scipy.sparse matrix/array or array_like, shape (n, n)
        Structural nonzeros are the entries that are nonzero (True); stored zeros of a
        sparse input are ignored.
    n : int, optional
        Number of variables; checked against the shape when given.

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (n, n)
    """
    if sp.issparse(sparsity):
        A = sp.csr_array(sparsity)
    else:
        a = np.asarray(sparsity)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"hess_sparsity must be a scipy.sparse matrix or a boolean/0-1 "
                            f"array; got an array of dtype {a.dtype}")
        if a.ndim == 2 and not np.all(np.isfinite(a)):
            raise ValueError("hess_sparsity contains NaN or inf; use a boolean or 0-1 array")
        A = a
    if A.ndim != 2:
        raise ValueError(f"hess_sparsity must be 2-D, got shape {A.shape}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"hess_sparsity must be square, got shape {A.shape}")
    if n is not None and A.shape[0] != int(n):
        raise ValueError(f"hess_sparsity has shape {A.shape} but x has n = {int(n)}")
    m = A.shape[0]
    P = sp.csr_array(A != 0)
    eye = sp.csr_array((np.ones(m, dtype=bool), np.arange(m), np.arange(m + 1)), shape=(m, m))
    P = sp.csr_array((P + P.T + eye).astype(bool))
    P.sum_duplicates()
    P.sort_indices()
    return P


def _order(deg, order):
    """Greedy vertex order: decreasing ``deg`` (stable: ties by index), or natural."""
    if order == "natural":
        return np.arange(deg.shape[0])
    if order == "largest_first":
        return np.argsort(-deg, kind="stable")
    raise ValueError(f"order must be one of {ORDERS}; got {order!r}")


def _lists(P):
    """Adjacency lists (Python lists: the greedy loops are sequential)."""
    idx, ptr = P.indices.tolist(), P.indptr.tolist()
    return [idx[ptr[v]:ptr[v + 1]] for v in range(P.shape[0])]


def _first_free(forbidden):
    """Smallest colour (0, 1, ...) not in the set ``forbidden``."""
    return next(c for c in range(len(forbidden) + 1) if c not in forbidden)


@dataclass(frozen=True, eq=False)
class Coloring:
    """A colouring of a Hessian pattern with its direct-recovery plan.

    Attributes
    ----------
    kind : {"cpr", "star"}
    order : str
        Greedy ordering used (see the module docstring).
    colors : ndarray of int64, shape (n,)
        Colour (group) c(j) of column j, in 0..ncolors-1.
    ncolors : int
        Number k of colours = products (or gradient differences) per Hessian.
    pattern : scipy.sparse.csr_array of bool
        The symmetric pattern (diagonal included); H has exactly this structure.
    src : tuple of (row, col, step) triples of ndarray
        Recovery plan per stored entry of ``pattern`` (CSR order): ``B[row, col] /
        h[step]``; two triples for CPR (estimates of H_rs and H_sr), one for star.
    """

    kind: str
    order: str
    colors: np.ndarray
    ncolors: int
    pattern: sp.csr_array = field(repr=False)
    src: tuple = field(repr=False)

    @property
    def n(self) -> int:
        return self.colors.shape[0]

    def seed_matrix(self, h=1.0):
        """Seed matrix S (CSC, n x k): ``S[j, c(j)] = h_j``; column c is the direction d_c."""
        h = self._steps(h)
        return sp.csc_array((h, (np.arange(self.n), self.colors)), shape=(self.n, self.ncolors))

    def direction(self, c, h=1.0):
        """Dense direction d_c = sum_{c(j) = c} h_j e_j, shape (n,)."""
        if not 0 <= int(c) < self.ncolors:
            raise ValueError(f"colour {c} out of range 0..{self.ncolors - 1}")
        return np.where(self.colors == int(c), self._steps(h), 0.0)

    def _steps(self, h):
        h = np.asarray(h, dtype=np.float64)
        h = np.broadcast_to(h, (self.n,)) if h.ndim == 0 else h
        if h.shape != (self.n,) or not (np.all(np.isfinite(h)) and np.all(h > 0)):
            raise ValueError(f"h must be positive and finite, a scalar or of shape "
                             f"({self.n},); got shape {h.shape}")
        return h

    def recover(self, B, h=1.0, B_err=None):
        """Direct recovery of H (and its elementwise bound) from compressed products.

        Parameters
        ----------
        B : array_like, shape (n, ncolors)
            ``B[:, c] ~ H d_c`` with d_c the seed columns for steps ``h``.
        h : float or array_like, shape (n,)
            Steps of the seed matrix (1.0 for plain products ``H S``, S 0/1).
        B_err : array_like, shape (n, ncolors), optional
            Elementwise bound on ``|B - H S|`` (NaN entries propagate: not estimated).

        Returns
        -------
        H : scipy.sparse.csr_array, shape (n, n)
            Symmetric, with the structure of ``pattern``.
        H_err : scipy.sparse.csr_array or None
            Elementwise bound on ``|H - H*|`` (None without ``B_err``); for CPR it covers
            both estimates H_ij, H_ji (max of their bounds + half their difference).
        """
        h, P = self._steps(h), self.pattern
        B, E = (None if a is None else np.asarray(a, dtype=np.float64) for a in (B, B_err))
        for name, a in (("B", B), ("B_err", E)):
            if a is not None and a.shape != (self.n, self.ncolors):
                raise ValueError(f"{name} must have shape (n, ncolors) = ({self.n}, "
                                 f"{self.ncolors}); got {a.shape}")
        if E is not None and np.any(E < 0):
            raise ValueError("B_err must be >= 0 (NaN = not estimated)")
        vals = [B[r, c] / h[s] for r, c, s in self.src]
        data = vals[0] if len(vals) == 1 else 0.5 * (vals[0] + vals[1])
        H = sp.csr_array((data, P.indices.copy(), P.indptr.copy()), shape=P.shape)
        if E is None:
            return H, None
        errs = [E[r, c] / h[s] for r, c, s in self.src]
        err = errs[0] if len(errs) == 1 else (np.maximum(errs[0], errs[1])
                                              + 0.5 * np.abs(vals[0] - vals[1]))
        return H, sp.csr_array((err, P.indices.copy(), P.indptr.copy()), shape=P.shape)


def _entries(P):
    """(r, s) of the stored entries of P in CSR order."""
    return np.repeat(np.arange(P.shape[0]), np.diff(P.indptr)), P.indices.astype(np.int64)


def cpr_coloring(sparsity, n=None, order="largest_first"):
    """CPR column groups of a symmetric pattern (greedy distance-2 colouring, [1], [2]).

    Columns j, l share a group only if no row i has P_ij and P_il both nonzero.  The
    greedy pass keeps, per row, the set of groups already present in it: column j gets
    the smallest group absent from all rows of its pattern.  Memory O(nnz(P)), time
    O(sum_i |row i|^2); the column-intersection graph P'P is never formed.

    Parameters
    ----------
    sparsity : sparse matrix or array_like, shape (n, n)
        Pattern, symmetrized by :func:`hess_pattern` (n checked when given).
    n : int, optional
    order : {"largest_first", "natural"}

    Returns
    -------
    Coloring
        ``kind == "cpr"``; banded patterns of half-bandwidth w get at most 2w + 1 groups.
    """
    P = hess_pattern(sparsity, n)
    rowlen = np.diff(P.indptr).astype(np.float64)
    cols = _lists(P)                         # P symmetric: rows of column j = row j
    used = [set() for _ in cols]
    colors = np.empty(len(cols), dtype=np.int64)
    for j in _order(P @ rowlen, order).tolist():
        c = _first_free(set().union(*[used[i] for i in cols[j]]))
        colors[j] = c
        for i in cols[j]:
            used[i].add(c)
    r, s = _entries(P)
    src = ((r, colors[s], s), (s, colors[r], r))
    return Coloring("cpr", order, colors, int(colors.max(initial=-1)) + 1, P, src)


def star_coloring(sparsity, n=None, order="largest_first"):
    """Greedy star colouring of the adjacency graph of a symmetric pattern ([3], [4]).

    Vertex v (in the given order) may not take: the colour of a coloured neighbour w
    (proper colouring); any colour of a coloured neighbour x of an *uncoloured* neighbour
    w (so the coloured neighbours of an uncoloured vertex stay distinct); the colour of a
    coloured x adjacent to a coloured neighbour w of v when x has another neighbour
    y != w coloured like w (v-w-x-y would be a 2-coloured path on 4 vertices).  This is
    the simple greedy star colouring of [4], Sec. 4, with per-vertex counts of the
    neighbours' colours so that the last test costs O(1): time O(sum_v deg(v)^2).

    Parameters
    ----------
    sparsity : sparse matrix or array_like, shape (n, n)
    n : int, optional
    order : {"largest_first", "natural"}
        Degree = number of off-diagonal nonzeros in the row.

    Returns
    -------
    Coloring
        ``kind == "star"``; the recovery rule is in the module docstring.
    """
    P = hess_pattern(sparsity, n)
    N = _lists(sp.csr_array(sp.triu(P, 1) + sp.tril(P, -1)))
    color = [-1] * len(N)
    cnt = [dict() for _ in N]                # colour -> number of coloured neighbours
    for v in _order(np.array([len(a) for a in N]), order).tolist():
        forb = set()
        for w in N[v]:
            cw = color[w]
            if cw < 0:
                forb.update(cnt[w])
                continue
            forb.add(cw)
            for x in N[w]:
                if x != v and color[x] >= 0 and cnt[x].get(cw, 0) >= 2:
                    forb.add(color[x])
        c = _first_free(forb)
        color[v] = c
        for w in N[v]:
            cnt[w][c] = cnt[w].get(c, 0) + 1
    colors = np.array(color, dtype=np.int64)
    k = int(colors.max(initial=-1)) + 1
    r, s = _entries(P)
    keys, counts = np.unique(r * k + colors[s], return_counts=True)
    ok_rs = counts[np.searchsorted(keys, r * k + colors[s])] == 1   # s alone in B[r, c(s)]
    ok_sr = counts[np.searchsorted(keys, s * k + colors[r])] == 1   # r alone in B[s, c(r)]
    from_r = np.where(r <= s, ok_rs, ~ok_sr)
    if not np.all(from_r | ok_sr) or not np.all(~from_r | ok_rs):
        raise RuntimeError("internal error: the colouring is not a star colouring")
    src = ((np.where(from_r, r, s), np.where(from_r, colors[s], colors[r]),
            np.where(from_r, s, r)),)
    return Coloring("star", order, colors, k, P, src)


@dataclass(frozen=True, eq=False)
class PatternStencil:
    """The 4-point Hessian stencil of :mod:`curvopt.fd.stencils` restricted to a pattern.

    Values, in one flat order of ``num_points = 2n + 4m`` points (plus f(x)): ``fp2[i] =
    f(x + h2_i e_i)`` for i < n, then ``fm2[i] = f(x - h2_i e_i)``, then for the k-th
    upper off-diagonal nonzero (I[k], J[k]) the corners ``Fpp[k], Fpm[k], Fmp[k], Fmm[k]``
    (``Fpm[k] = f(x + h_I e_I - h_J e_J)`` etc.), the layout of ``curvopt.fd.stencils``.
    For a dense pattern (I, J) = ``np.triu_indices(n, 1)`` and :meth:`combine` gives the
    numbers of :func:`curvopt.fd.stencils.combine_pairs`.

    Attributes
    ----------
    n : int
    I, J : ndarray of int64, shape (m,)
        Upper off-diagonal nonzeros, row-major (I < J).
    """

    n: int
    I: np.ndarray
    J: np.ndarray

    @property
    def m(self) -> int:
        return self.I.shape[0]

    @property
    def num_points(self) -> int:
        """Evaluations besides f(x): 4 m + 2 n."""
        return 4 * self.m + 2 * self.n

    def points(self, x, h, h2, max_rows=1024):
        """Yield ``(start, X)``: rows start..start+len(X)-1 of the flat order, len(X) <= max_rows.

        ``h`` and ``h2`` (~2h) must be representable steps (``representable`` in
        ``curvopt.fd.steps``): coordinates are ``x +- h`` computed
        in float64 and stored in x's dtype, the points the dense stencil evaluates.  Only one (len(X), n) block
        exists at a time.
        """
        x = np.asarray(x)
        if x.shape != (self.n,):
            raise ValueError(f"x must have shape ({self.n},); got {x.shape}")
        step = int(max_rows)
        if step < 1:
            raise ValueError(f"max_rows must be >= 1; got {max_rows}")
        x = x if x.dtype.kind == "f" else x.astype(np.float64)
        x64 = x.astype(np.float64)
        hv, h2v = (np.broadcast_to(np.asarray(a, dtype=np.float64), (self.n,)) for a in (h, h2))
        xp, xm, xp2, xm2 = ((x64 + a).astype(x.dtype) for a in (hv, -hv, h2v, -h2v))
        for start in range(0, self.num_points, step):
            t = np.arange(start, min(start + step, self.num_points))
            X = np.repeat(x[None, :], t.shape[0], axis=0)
            rows, ax = np.arange(t.shape[0]), t < 2 * self.n
            k = t[ax] % self.n
            X[rows[ax], k] = np.where(t[ax] < self.n, xp2[k], xm2[k])
            kp, s = np.divmod(t[~ax] - 2 * self.n, 4)         # s: 0 pp, 1 pm, 2 mp, 3 mm
            pr, i, j = rows[~ax], self.I[kp], self.J[kp]
            X[pr, i] = np.where(s < 2, xp[i], xm[i])
            X[pr, j] = np.where(s % 2 == 0, xp[j], xm[j])
            yield start, X

    def split(self, values):
        """(fp2, fm2, Fpp, Fpm, Fmp, Fmm) from the flat value vector of length num_points."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (self.num_points,):
            raise ValueError(f"values must have shape ({self.num_points},); got {v.shape}")
        return (v[:self.n], v[self.n:2 * self.n]) + tuple(v[2 * self.n + q::4] for q in range(4))

    def combine(self, f0, fp2, fm2, Fpp, Fpm, Fmp, Fmm, h, h2):
        """(H, g): sparse symmetric H (CSR) and the central gradient, formulas of
        :func:`curvopt.fd.stencils.combine_pairs`:
        ``H_ii = ((fp2 - f0) + (fm2 - f0)) / h2_i^2``, ``g_i = (fp2 - fm2) / (2 h2_i)``,
        ``H_IJ = H_JI = ((Fpp - Fpm) - (Fmp - Fmm)) / (4 h_I h_J)``."""
        f0 = float(f0)
        fp2, fm2, h, h2 = (np.broadcast_to(np.asarray(a, dtype=np.float64), (self.n,))
                           for a in (fp2, fm2, h, h2))
        F = [np.asarray(a, dtype=np.float64) for a in (Fpp, Fpm, Fmp, Fmm)]
        if any(a.shape != (self.m,) for a in F):
            raise ValueError(f"Fpp, Fpm, Fmp, Fmm must have shape ({self.m},)")
        d = ((fp2 - f0) + (fm2 - f0)) / (h2 * h2)
        g = (fp2 - fm2) / (2.0 * h2)
        v = ((F[0] - F[1]) - (F[2] - F[3])) / (4.0 * h[self.I] * h[self.J])
        ar = np.arange(self.n)
        H = sp.csr_array((np.concatenate([d, v, v]), (np.concatenate([ar, self.I, self.J]),
                                                      np.concatenate([ar, self.J, self.I]))),
                         shape=(self.n, self.n))
        H.sort_indices()
        return H, g


def pattern_stencil(sparsity, n=None):
    """:class:`PatternStencil` of the symmetrized pattern (see :func:`hess_pattern`)."""
    P = hess_pattern(sparsity, n)
    U = sp.csr_array(sp.triu(P, 1))
    U.sort_indices()
    I, J = _entries(U)
    return PatternStencil(P.shape[0], I, J)
