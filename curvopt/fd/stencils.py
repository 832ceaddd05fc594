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

Stencils are described as :class:`curvopt.evaluation.Changes` (each point differs from x in
one or two coordinates) and evaluated in one batch; results are kept in *entry form*:
the diagonal ``d`` (n), the pair entries ``o`` (one per (I[k], J[k])) and the gradient
``g`` (n), assembled into a matrix only at the end (:func:`assemble`).

Value layout of a Hessian batch: ``f(x + 2h_i e_i)`` for i = 0..n-1, then
``f(x - 2h_i e_i)``, then for each pair k the corners (+,+), (+,-), (-,+), (-,-).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from curvopt.evaluation import Changes

__all__ = ["representable_steps", "step_rounds_to_zero", "pair_index", "hessian_index",
           "hessian_batch", "combine_pairs", "axis_changes", "combine_gradient", "assemble",
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
def _hessian_rows(x, h, I, J):  # pragma: no cover - jit
    """(points, bad, a, b): points = (h, h2, xp, xm, xp2, xm2), the representable steps h
    and h2 = 2h and their points (:func:`curvopt.fd.steps.representable`); bad = 0, or
    1 (h) or 2 (h2) when a step rounds to zero; a, b: the values of a Hessian batch's
    changed coordinates (see :func:`hessian_index` for which coordinates)."""
    h, xp, xm, ok = representable_steps(x, h)
    h2, xp2, xm2, ok2 = representable_steps(x, 2.0 * h)
    bad = 0 if ok and ok2 else 1 if not ok else 2
    n, npairs = x.shape[0], I.shape[0]
    m = 2 * n + 4 * npairs
    a_, b_ = np.empty(m, x.dtype), np.empty(m, x.dtype)
    for i in range(n):
        a_[i], b_[i] = xp2[i], x[i]
        a_[n + i], b_[n + i] = xm2[i], x[i]
    for k in range(npairs):
        i, j, r = I[k], J[k], 2 * n + 4 * k
        a_[r], b_[r] = xp[i], xp[j]
        a_[r + 1], b_[r + 1] = xp[i], xm[j]
        a_[r + 2], b_[r + 2] = xm[i], xp[j]
        a_[r + 3], b_[r + 3] = xm[i], xm[j]
    return (h, h2, xp, xm, xp2, xm2), bad, a_, b_


_INDEX = {}


def hessian_index(n, I, J):
    """(i, j): the changed coordinates of a Hessian batch (layout in the module
    docstring; j = -1 on the axis points). Kept for the last two (n, I, J) seen: they
    depend on the pairs only, and writing them costs as much as the values' part. The
    arrays are shared between batches and never written."""
    hit = _INDEX.get(n)
    if hit is not None and hit[0] is I and hit[1] is J:
        return hit[2], hit[3]
    axis = np.arange(n, dtype=np.int64)
    i_ = np.concatenate([axis, axis, np.repeat(I.astype(np.int64), 4)])
    j_ = np.concatenate([np.full(2 * n, -1, np.int64), np.repeat(J.astype(np.int64), 4)])
    _INDEX.pop(n, None)
    if len(_INDEX) >= 2:
        _INDEX.pop(next(iter(_INDEX)))
    _INDEX[n] = (I, J, i_, j_)
    return i_, j_


def hessian_batch(x, h, I, J):
    """(batch, points): the Hessian stencil at target steps h as :class:`Changes` (layout
    in the module docstring), and points = (h, h2, xp, xm, xp2, xm2), its representable
    steps h and h2 = 2h and their points; ValueError as
    :func:`curvopt.fd.steps.representable` when a step rounds to zero."""
    points, bad, a_, b_ = _hessian_rows(np.ascontiguousarray(x),
                                        np.ascontiguousarray(h, dtype=np.float64), I, J)
    if bad:
        raise step_rounds_to_zero(points[bad - 1])
    i_, j_ = hessian_index(x.shape[0], I, J)
    return Changes(x, i_, a_, j_, b_), points


@njit(cache=True)
def combine_pairs(f0, vals, I, J, h, h2):  # pragma: no cover - jit
    """(d, o, g, fmax, nbad): diagonal, pair entries and central gradient from a Hessian
    batch, with max |f| over f0 and the finite values and the number of non-finite ones."""
    n = h.shape[0]
    d, g, o = np.empty(n), np.empty(n), np.empty(I.shape[0])
    for i in range(n):
        fp, fm = vals[i], vals[n + i]
        d[i] = ((fp - f0) + (fm - f0)) / (h2[i] * h2[i])
        g[i] = (fp - fm) / (2.0 * h2[i])
    for k in range(I.shape[0]):
        r = 2 * n + 4 * k
        o[k] = ((vals[r] - vals[r + 1]) - (vals[r + 2] - vals[r + 3])) / (4.0 * h[I[k]] * h[J[k]])
    fmax, nbad = abs(f0), 0
    for v in vals:
        if np.isfinite(v):
            fmax = max(fmax, abs(v))
        else:
            nbad += 1
    return d, o, g, fmax, nbad


def axis_changes(x, xp, xm=None):
    """Points x with x_i -> xp_i (i = 0..n-1), then, if given, x with x_i -> xm_i."""
    n = x.shape[0]
    idx = np.arange(n, dtype=np.int64)
    a = xp if xm is None else np.concatenate([xp, xm])
    i = idx if xm is None else np.concatenate([idx, idx])
    return Changes(x, i, np.ascontiguousarray(a, dtype=x.dtype), np.full(i.shape[0], -1, np.int64),
                   np.ascontiguousarray(a, dtype=x.dtype))


def combine_gradient(f0, vals, h, central):
    """Central (vals = f at x + h e_i then x - h e_i) or forward difference gradient."""
    n = h.shape[0]
    if central:
        return (vals[:n] - vals[n:]) / (2.0 * h)
    return (vals - f0) / h


@njit(cache=True)
def _assemble(n, I, J, d, o):  # pragma: no cover - jit
    H = np.zeros((n, n))
    for k in range(I.shape[0]):
        H[I[k], J[k]] = o[k]
        H[J[k], I[k]] = o[k]
    for i in range(n):
        H[i, i] = d[i]
    return H


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
