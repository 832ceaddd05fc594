"""Finite-difference stencils: where to evaluate f, and how to combine the values.

With representable steps h_i (:func:`curvopt.fd.steps.representable`) and unit vectors e_i,

    g_i  ~ (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)                           (central)
    g_i  ~ (f(x + h_i e_i) - f(x)) / h_i                                         (forward)
    H_ij ~ (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
            - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)  (i != j)
    H_ii ~ (f(x + 2 h_i e_i) - 2 f(x) + f(x - 2 h_i e_i)) / (4 h_i^2)

(Nocedal & Wright 2006, sec. 8.1, central analogues of its formulas; the diagonal at
+-2h is numdifftools' choice: H is then exactly the central-difference Jacobian of the
central-difference gradient, and the axis points at +-2h give a central gradient for
free.) A dense Hessian costs f(x), 2n axis values and 4 values per pair i < j: 2n^2 + 1.
A sparsity pattern restricts the pairs to its nonzeros (:func:`pair_index` or the
caller's (I, J)).

Stencils are described as :class:`curvopt.evaluation.PairBatch` (the moved coordinates of
the axis points and the pairs, never the points) and evaluated in one batch; results are kept in *entry form*:
the diagonal ``d`` (n), the pair entries ``o`` (one per (I[k], J[k])) and the gradient
``g`` (n), assembled into a matrix only at the end (:func:`assemble`).

Value layout of a Hessian batch: ``f(x + 2h_i e_i)`` for i = 0..n-1, then
``f(x - 2h_i e_i)``, then for each pair k the corners (+,+), (+,-), (-,+), (-,-).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from curvopt.evaluation import PairBatch

__all__ = ["representable_steps", "step_rounds_to_zero", "pair_index",
           "hessian_batch", "combine_pairs", "axis_batch", "combine_gradient", "assemble",
           "touched_by_nonfinite"]

_PAIRS = {}


def pair_index(n):
    """Row-major index arrays (I, J) of all pairs i < j (``np.triu_indices(n, 1)``), cached."""
    if n not in _PAIRS:
        I, J = np.triu_indices(n, 1)
        _PAIRS[n] = (I.astype(np.int64), J.astype(np.int64))
        if len(_PAIRS) > 32:
            _PAIRS.pop(next(iter(_PAIRS)))
    return _PAIRS[n]


@njit(cache=True)
def representable_steps(x, h):  # pragma: no cover - jit
    """(h, xp, xm, ok): xp = x + h in x's dtype, h = xp - x exactly, xm = x - h; ok:
    every step is positive (:func:`curvopt.fd.steps.representable` checks it)."""
    n = x.shape[0]
    xp, xm, he = np.empty_like(x), np.empty_like(x), np.empty(n)
    ok = True
    for i in range(n):
        xp[i] = x[i] + h[i]
        he[i] = np.float64(xp[i]) - np.float64(x[i])
        xm[i] = x[i] - he[i]
        if not he[i] > 0.0:
            ok = False
    return he, xp, xm, ok


def step_rounds_to_zero(he):
    """The ValueError of :func:`curvopt.fd.steps.representable` for the representable
    steps he."""
    return ValueError(f"a finite-difference step rounds to zero at coordinates "
                      f"{np.flatnonzero(~(he > 0)).tolist()} of x; use a larger step")


@njit(cache=True)
def _hessian_points(x, h):  # pragma: no cover - jit
    """(points, bad): points = (h, h2, xp, xm, xp2, xm2), the representable steps h and
    h2 = 2h and their points (:func:`curvopt.fd.steps.representable`); bad = 0, or 1 (h)
    or 2 (h2) when a step rounds to zero."""
    h, xp, xm, ok = representable_steps(x, h)
    h2, xp2, xm2, ok2 = representable_steps(x, 2.0 * h)
    bad = 0 if ok and ok2 else 1 if not ok else 2
    return (h, h2, xp, xm, xp2, xm2), bad


def hessian_batch(x, h, I, J):
    """(batch, h, h2): the Hessian stencil at target steps h as a
    :class:`~curvopt.evaluation.PairBatch` (axis points x -+ h2_i e_i in ``up``/``um``,
    corners from x -+ h in ``xp``/``xm``; layout in the module docstring) and its
    representable steps h and h2 = 2h; ValueError as :func:`curvopt.fd.steps.representable`
    when a step rounds to zero."""
    x = np.ascontiguousarray(x)
    points, bad = _hessian_points(x, np.ascontiguousarray(h, dtype=np.float64))
    if bad:
        raise step_rounds_to_zero(points[bad - 1])
    he, he2, xp, xm, xp2, xm2 = points
    return PairBatch(x, xp2, xm2, xp, xm, I, J), he, he2


@njit(cache=True)
def _assemble(n, I, J, d, o):  # pragma: no cover - jit
    H = np.zeros((n, n))
    for k in range(I.shape[0]):
        H[I[k], J[k]] = o[k]
        H[J[k], I[k]] = o[k]
    for i in range(n):
        H[i, i] = d[i]
    return H


@njit(cache=True)
def combine_pairs(f0, vals, I, J, h, h2, dense=False):  # pragma: no cover - jit
    """(d, o, g, H, fmax, nbad): diagonal, pair entries and central gradient from a Hessian
    batch; with ``dense`` also H assembled from them (pairs not in (I, J) are 0; else an
    empty (0, 0) array); max |f| over f0 and the finite values and the number of
    non-finite ones."""
    n = h.shape[0]
    d, g, o = np.empty(n), np.empty(n), np.empty(I.shape[0])
    for i in range(n):
        fp, fm = vals[i], vals[n + i]
        d[i] = ((fp - f0) + (fm - f0)) / (h2[i] * h2[i])
        g[i] = (fp - fm) / (2.0 * h2[i])
    for k in range(I.shape[0]):
        r = 2 * n + 4 * k
        o[k] = ((vals[r] - vals[r + 1]) - (vals[r + 2] - vals[r + 3])) / (4.0 * h[I[k]] * h[J[k]])
    H = _assemble(n, I, J, d, o) if dense else np.zeros((0, 0))
    fmax, nbad = abs(f0), 0
    for v in vals:
        if np.isfinite(v):
            fmax = max(fmax, abs(v))
        else:
            nbad += 1
    return d, o, g, H, fmax, nbad


_NO_PAIRS = np.empty(0, np.int64)


def axis_batch(x, xp, xm=None):
    """Points x with x_i -> xp_i (i = 0..n-1), then, if given, x with x_i -> xm_i (a
    :class:`~curvopt.evaluation.PairBatch` without pairs)."""
    up = np.ascontiguousarray(xp, dtype=x.dtype)
    um = up[:0] if xm is None else np.ascontiguousarray(xm, dtype=x.dtype)
    return PairBatch(x, up, um, up[:0], up[:0], _NO_PAIRS, _NO_PAIRS)


def combine_gradient(f0, vals, h, central):
    """Central (vals = f at x + h e_i then x - h e_i) or forward difference gradient."""
    n = h.shape[0]
    if central:
        return (vals[:n] - vals[n:]) / (2.0 * h)
    return (vals - f0) / h


def assemble(n, I, J, d, o):
    """Dense symmetric H from entry form (pairs not in (I, J) are 0)."""
    return _assemble(n, I, J, np.ascontiguousarray(d, dtype=np.float64),
                     np.ascontiguousarray(o, dtype=np.float64))


def touched_by_nonfinite(vals, I, J, n):
    """Coordinates to blame for the non-finite values of a Hessian batch (bool mask):
    those whose own axis points are not finite, and both coordinates of a pair whose
    corner is not finite while neither axis is."""
    bad = ~np.isfinite(vals)
    axis = bad[:2 * n]
    mask = axis[:n] | axis[n:]
    pairs = bad[2 * n:].reshape(-1, 4).any(axis=1) & ~mask[I] & ~mask[J]
    mask[I[pairs]] = True
    mask[J[pairs]] = True
    return mask
