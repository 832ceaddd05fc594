"""Derivative estimates from function values: one record, one path per derivative.

* :func:`hessian_stencil` -- one 2n^2-evaluation stencil (or the pairs of a pattern) in
  entry form, with steps shrunk where it meets non-finite values (a domain edge);
* :func:`hessian_estimate` -- H and the stencil's gradient with elementwise bounds: a
  second stencil at 2h, a third axis step for the smoothness check
  (:mod:`curvopt.fd.bounds`), 4n^2 + 2n evaluations besides f(x);
* :func:`gradient_estimate` -- central (2n) or forward (n) differences, with a Richardson
  bound (a second step, 2x the evaluations) or the rounding part only;
* :func:`hvp_estimate` -- H v from f alone (8n) or from the user's gradient (4 calls).

Near a domain edge (f not finite at some stencil points) the steps of the coordinates
involved are divided by 8, up to three times, so that central formulas apply inside the
domain; entries that still meet a non-finite value are taken one-sided
(:mod:`curvopt.fd.onesided`, order 1) and their bound is NaN: "not estimated", never a
number that might not cover the error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.evaluation import PairBatch
from curvopt.fd.bounds import (K_NOISE, S_TRUNC, gradient_bound, hessian_bounds,
                               jump_amplitude, rounding_bound, step_term)
from curvopt.fd.onesided import one_sided
from curvopt.fd.stencils import (assemble, axis_batch, combine_gradient, combine_pairs,
                                 hessian_batch, pair_index, touched_by_nonfinite)
from curvopt.fd.steps import representable
from curvopt.objective import NonFiniteError

__all__ = ["Estimate", "Stencil", "HessianEstimate", "hessian_stencil", "hessian_estimate",
           "gradient_estimate", "hvp_estimate", "SHRINK_TRIES"]

SHRINK_TRIES = 3          # step divisions by 8 at a domain edge before going one-sided


@dataclass(frozen=True)
class Estimate:
    """A derivative estimate with an elementwise bound on its error.

    Attributes
    ----------
    value : ndarray
        The estimate: g (n,), H (n, n) or H v (n,).
    error : ndarray
        Elementwise bound on ``|value - true value|``; NaN means "not estimated".
    f : float
        f(x).
    step : ndarray
        The finite-difference steps used (absolute, per coordinate).
    noise : float
        The noise level sigma of f used in the rounding terms.
    nfev : int
        Evaluations of f spent (user gradient calls for ``hvp_estimate`` with jac).
    smooth : bool
        False when the smoothness check found f not smooth at the step scale (the
        bounds were then widened with the noise amplitude the differences imply).
    rounding : ndarray or None
        The rounding part of ``error`` (gradients), else None.
    gradient : Estimate or None
        For a Hessian from function values: the central gradient read from the
        stencil's axis points (steps ~2h), with its own bound.
    """

    value: np.ndarray
    error: np.ndarray
    f: float
    step: np.ndarray
    noise: float
    nfev: int
    smooth: bool = True
    rounding: np.ndarray | None = None
    gradient: Estimate | None = None


@dataclass(frozen=True)
class Stencil:
    """One Hessian stencil in entry form: diagonal ``d``, pair entries ``o`` for the pairs
    (I, J), the central gradient ``g`` read at the axis points +-h2 (h2 ~ 2h), steps,
    max |f| over its finite values, the coordinates whose entries are one-sided, H when it
    was assembled with the entries (``dense``) and the stencil's description (``batch``,
    a :class:`~curvopt.evaluation.PairBatch`: its points x -+ h are ``batch.xp/xm``)."""

    d: np.ndarray
    o: np.ndarray
    g: np.ndarray
    h: np.ndarray
    h2: np.ndarray
    I: np.ndarray
    J: np.ndarray
    fmax: float
    onesided: np.ndarray | None = None
    dense: np.ndarray | None = None
    batch: PairBatch | None = None

    @property
    def H(self):
        """The dense symmetric H of the stencil (assembled when not kept)."""
        if self.dense is not None:
            return self.dense
        return assemble(self.h.shape[0], self.I, self.J, self.d, self.o)


@dataclass(frozen=True)
class HessianEstimate:
    """H and g with elementwise bounds (NaN where not estimated), the steps, the noise
    level sigma used in the bounds, the smoothness flag and the first stencil."""

    H: np.ndarray
    H_err: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    h: np.ndarray
    sigma: float
    smooth: bool
    stencil: Stencil


def _evaluate_stencil(obj, x, h, I, J):
    """(values, batch, h, h2): the Hessian stencil at target steps h, evaluated."""
    batch, he, he2 = hessian_batch(x, h, I, J)
    return obj.values(batch), batch, he, he2


def hessian_stencil(obj, x, f0, h, pairs=None, dense=False):
    """The Hessian stencil at target steps h (pairs (I, J): all i < j by default); with
    ``dense`` its H is assembled in the same pass (kept in ``Stencil.dense``).

    Where values are not finite, the steps of the coordinates involved are divided by 8
    and the stencil repeated (at most ``SHRINK_TRIES`` times); what still meets a
    non-finite value is computed one-sided (NonFiniteError when no formula is finite).
    """
    n = x.shape[0]
    I, J = pair_index(n) if pairs is None else pairs
    h = np.asarray(h, dtype=np.float64)
    for attempt in range(SHRINK_TRIES + 1):
        vals, batch, he, he2 = _evaluate_stencil(obj, x, h, I, J)
        d, o, g, H, fmax, nbad = combine_pairs(float(f0), vals, I, J, he, he2, dense)
        if nbad == 0:
            break
        bad = touched_by_nonfinite(vals, I, J, n)
        if attempt == SHRINK_TRIES:
            break
        h = np.where(bad, he / 8.0, he)
    fmax = float(fmax)
    onesided = None
    if nbad:
        onesided = one_sided(obj, batch, float(f0), vals, d, o, g)
        if onesided is None:
            raise NonFiniteError(
                f"f is not finite on both sides of a finite-difference stencil near x = {x}"
                ": no one-sided formula applies; the point is too close to where f is "
                "undefined")
    return Stencil(d, o, g, he, he2, I, J, fmax, onesided,
                   H if dense and onesided is None else None, batch)


def hessian_estimate(obj, x, f0, sigma, h, *, errors=True, first=None, pairs=None):
    """H (dense) and the stencil gradient, with bounds when ``errors``.

    Parameters
    ----------
    obj : Objective
    x : ndarray
    f0 : float
        f(x), finite.
    sigma : float
        Noise level of f near x.
    h : ndarray
        Target steps (ignored when ``first`` is given).
    errors : bool
        False: one stencil (2n^2 evaluations), NaN bounds. True: a second stencil at 2h
        and the smoothness check (2n^2 + 2n more).
    first : Stencil, optional
        A stencil already evaluated at x (reused: 2n^2 evaluations saved).
    """
    st = first if first is not None else hessian_stencil(obj, x, f0, h, pairs,
                                                         dense=not errors)
    n = x.shape[0]
    if not errors:
        return HessianEstimate(st.H, np.full((n, n), np.nan), st.g, np.full(n, np.nan), st.h,
                               float(sigma), True, st)
    st2 = hessian_stencil(obj, x, f0, 2.0 * st.h, (st.I, st.J))
    while np.any(st2.h < 1.5 * st.h):        # the 2h stencil met the domain edge: both
        st = hessian_stencil(obj, x, f0, np.minimum(st.h, st2.h / 2.0), (st.I, st.J))
        st2 = hessian_stencil(obj, x, f0, 2.0 * st.h, (st.I, st.J))   # shrink together
    onesided = _union(st.onesided, st2.onesided)
    vals = obj.values(axis_batch(x, st.batch.xp, st.batch.xm))
    skip = np.zeros(n, dtype=np.bool_) if onesided is None else onesided
    eps_x = float(np.finfo(x.dtype).eps)
    s_jump, fmax3 = jump_amplitude(vals[:n], vals[n:], f0, st.h, st.g, st.d, st2.g, st2.d,
                                   skip, x, eps_x)
    sigma_eff = max(float(sigma), obj.f_eps * max(st.fmax, st2.fmax, fmax3))
    smooth = not s_jump > K_NOISE * sigma_eff
    if not smooth:
        sigma_eff = max(sigma_eff, s_jump)
    d, de, o, oe, g, ge = hessian_bounds(st.d, st2.d, st.o, st2.o, st.g, st2.g, st.I, st.J,
                                         st.h, st.h2, x, sigma_eff, eps_x)
    if onesided is not None:                 # order 1 near an edge: not estimated
        d, g, o = np.where(onesided, st.d, d), np.where(onesided, st.g, g), st.o.copy()
        de, ge = np.where(onesided, np.nan, de), np.where(onesided, np.nan, ge)
        oe = np.where(onesided[st.I] | onesided[st.J], np.nan, oe)
    return HessianEstimate(assemble(n, st.I, st.J, d, o), assemble(n, st.I, st.J, de, oe),
                           g, ge, st.h, float(sigma_eff), smooth, st)


def _union(a, b):
    if a is None or b is None:
        return a if b is None else b
    return a | b


def _axis_values(obj, x, f0, h, central):
    """(D, h, values): one central or forward difference at target steps h, steps divided
    by 8 (up to SHRINK_TRIES times) for coordinates whose points are not finite."""
    n = x.shape[0]
    for attempt in range(SHRINK_TRIES + 1):
        he, xp, xm = representable(x, h)
        vals = obj.values(axis_batch(x, xp, xm if central else None))
        bad = ~np.isfinite(vals[:n]) | (~np.isfinite(vals[n:]) if central else False)
        if not bad.any() or attempt == SHRINK_TRIES:
            break
        h = np.where(bad, he / 8.0, he)
    return combine_gradient(f0, vals, he, central), he, vals


def gradient_estimate(obj, x, f0, sigma, h, *, scheme="central", errors=True, deriv=None):
    """Finite-difference gradient with an elementwise bound.

    ``errors=True``: Richardson with a second step 2h (4n or 2n evaluations).
    ``errors=False``: one step (2n or n); ``error`` is the rounding bound plus the
    truncation h^2 M / 6 (central) or h M / 2 (forward) for a known derivative scale
    M = ``deriv`` (NaN without it). ``rounding`` is always the rounding part. A central
    component with one non-finite side is taken one-sided and its bound is NaN;
    NonFiniteError when neither side is finite (after shrinking the step).
    """
    central = scheme == "central"
    if scheme not in ("central", "forward"):
        raise ValueError(f"scheme must be 'central' or 'forward'; got {scheme!r}")
    start, n = obj.nfev, x.shape[0]
    D, he, vals = _axis_values(obj, x, f0, h, central)
    fp, fm = vals[:n], (vals[n:] if central else np.full(n, f0))
    okp, okm = np.isfinite(fp), np.isfinite(fm)
    if not np.all(okp | okm if central else okp):
        raise NonFiniteError(f"f is not finite at a gradient stencil point near x = {x}")
    one = ~(okp & okm)
    D[one] = np.where(okp, fp - f0, f0 - fm)[one] / he[one]
    xa, eps_x = np.abs(x.astype(np.float64)), float(np.finfo(x.dtype).eps)
    c = np.where(one, 2.0, 1.0 if central else 2.0)
    if errors:
        D2, he2, vals2 = _axis_values(obj, x, f0, 2.0 * he, central)
        fin = np.isfinite(vals2)
        ok2 = fin[:n] & (fin[n:] if central else True) & (he2 > 1.5 * he)
        sig = max(float(sigma), obj.f_eps * _fmax(f0, vals, vals2))
        err = gradient_bound(D, D2, he, sig, xa, eps_x, 2 if central else 1, c)
        err = np.where(one | ~ok2, np.nan, err)
        return Estimate(D, err, float(f0), he, sig, obj.nfev - start,
                        rounding=rounding_bound(D, he, sig, xa, eps_x, c))
    sig = max(float(sigma), obj.f_eps * _fmax(f0, vals))
    rnd = rounding_bound(D, he, sig, xa, eps_x, c)
    M = np.nan if deriv is None else np.abs(np.asarray(deriv, dtype=np.float64))
    trunc = M * (he * he / 6.0 if central else he / 2.0) * np.ones_like(he)
    trunc[one] = np.nan
    return Estimate(D, rnd + trunc, float(f0), he, sig, obj.nfev - start, rounding=rnd)


def _fmax(f0, *value_arrays):
    """max |f| over f0 and the finite values."""
    m = abs(float(f0))
    for v in value_arrays:
        fin = v[np.isfinite(v)]
        if fin.size:
            m = max(m, float(np.abs(fin).max()))
    return m


def _hv_values(obj, x, v, e, h):
    """Hv from f alone: central difference along v of central partials (4n values)."""
    parts = []
    for s in (1.0, -1.0):
        base = (x + (s * e * v).astype(x.dtype)).astype(x.dtype)
        _, bp, bm = representable(base, h)
        vals = obj.values(axis_batch(base, bp, bm))
        if not np.all(np.isfinite(vals)):
            raise NonFiniteError(f"f is not finite at a stencil point near x = {x}")
        n = x.shape[0]
        parts.append((vals[:n] - vals[n:]) / (bp.astype(np.float64) - bm.astype(np.float64)))
    return (parts[0] - parts[1]) / (2.0 * e)


def _hv_grad(obj, x, v, e):
    """Hv from the user gradient: (g(x + e v) - g(x - e v)) / (2 e), and max |g|."""
    gp = obj.grad((x + (e * v).astype(x.dtype)).astype(x.dtype))
    gm = obj.grad((x - (e * v).astype(x.dtype)).astype(x.dtype))
    return (gp - gm) / (2.0 * e), max(np.abs(gp).max(), np.abs(gm).max())


def hvp_estimate(obj, x, sigma, v, e, h=None):
    """H v with an elementwise bound: from the user gradient (4 calls, Richardson at 2e)
    or from f alone (8n evaluations: central partials at steps h, along v at e)."""
    start = obj.nfev + obj.njev
    xs = max(1.0, float(np.abs(x.astype(np.float64)).max()))
    vmax, eps_x = float(np.abs(v).max()), float(np.finfo(x.dtype).eps)
    if obj.has_grad:
        D, gmax = _hv_grad(obj, x, v, e)
        D2, gmax2 = _hv_grad(obj, x, v, 2.0 * e)
        rnd = 10.0 * obj.jac_eps * max(gmax, gmax2) / e + np.abs(D) * eps_x * xs / (e * vmax)
        step = np.full(x.shape[0], e)
    else:
        D = _hv_values(obj, x, v, e, h)
        D2 = _hv_values(obj, x, v, 2.0 * e, 2.0 * h)
        xa = np.abs(x.astype(np.float64))
        rnd = (K_NOISE * sigma / (h * e) + step_term(D, xa, h, eps_x)
               + np.abs(D) * eps_x * xs / (e * vmax))
        step = h
    err = S_TRUNC * np.abs(D - D2) / 3.0 + rnd
    return Estimate(D, err, float("nan"), step, float(sigma), obj.nfev + obj.njev - start,
                    rounding=rnd)
