"""Finite-difference step rules, all in one place.

Default steps (Gill, Murray & Wright 1981, sec. 8.6; Nocedal & Wright 2006, sec. 8.1),
with eps_f the relative noise of f (:mod:`curvopt.fd.noise`) and s_i the scale of
coordinate i:

    forward gradient   h_i = eps_f^(1/2) s_i      truncation h |f''| / 2
    central gradient   h_i = eps_f^(1/3) s_i      truncation h^2 |f'''| / 6
    Hessian            h_i = eps_f^(1/4) s_i      truncation ~ h^2 |f''''|

s_i = max(|x_i|, typ_i), typ_i = 1 unless the caller knows a typical size of x_i, or
learns it from the curvature (:func:`curvature_scale`): a parameter of size 1e-5 with a
stiff curvature gets steps relative to 1e-5, not to 1.
Every step is made representable: h_i = (x_i + h_i) - x_i in x's dtype, so that the
difference quotients divide by the exact offsets (:func:`representable`).

Refinements the solver uses:

* :func:`capped_hessian_steps` -- the widest Hessian points x +- 2 h_i e_i should raise f
  by at most its own scale, H_ii (2 h_i)^2 / 2 <= max(1, |f|): one stiff coordinate would
  otherwise lift the rounding floor f_eps max|f| of every bound;
* :func:`third_derivative_steps` -- central-gradient steps from the third derivatives t_i
  that two central differences at one point reveal (Gill, Murray, Saunders & Wright 1983;
  Stepleman & Winarsky 1979): h_i = (3 sigma / |t_i|)^(1/3).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from curvopt.fd.stencils import representable_steps, step_rounds_to_zero

__all__ = ["POWER", "scale", "curvature_scale", "fitted_steps", "default_steps", "steps_for", "representable",
           "capped_hessian_steps", "AxisDifferences", "third_derivative_steps", "EPS64"]

EPS64 = float(np.finfo(np.float64).eps)
#: step = eps_f ** POWER[kind] * scale
POWER = {"forward": 1.0 / 2.0, "central": 1.0 / 3.0, "hessian": 1.0 / 4.0}
TYP_CUT = 1e-2      # curvature scales below this replace the default typical size 1
K_STEP_NOISE = 8.0   # noise standard deviations a third-derivative estimate must clear


def scale(x, typ=None):
    """s_i = max(|x_i|, typ_i) (typ = 1 by default), float64."""
    xa = np.abs(np.asarray(x, dtype=np.float64))
    return np.maximum(xa, 1.0 if typ is None else np.asarray(typ, dtype=np.float64))


def curvature_scale(f, dH):
    """typ_i = c_i where c_i = sqrt(max(1, |f|) / |H_ii|), the distance along e_i over
    which f changes by its own size, is below ``TYP_CUT`` (1e-2); else 1 (also where H_ii
    is 0 or not finite).

    With s_i = max(|x_i|, typ_i), a coordinate keeps the default scale max(1, |x_i|)
    unless its curvature is large for its size, asking for steps over 100 times shorter:
    then the steps follow |x_i| (or c_i when x_i is near 0). Milder mismatches keep the
    default, which the solver's step caps and third-derivative steps already refine.
    A worked example is in docs/solver.md ("Finite-difference steps inside the loop").

    References: Dennis & Schnabel (1996), sec. 7.1 (typical sizes of x); Gill, Murray &
    Wright (1981), sec. 8.6 (finite-difference intervals from the curvature).
    """
    dH = np.abs(np.asarray(dH, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.sqrt(max(1.0, abs(float(f))) / dH)
    return np.where(np.isfinite(c) & (c > 0) & (c < TYP_CUT), c, 1.0)


def default_steps(x, rel, kind, typ=None):
    """eps_f^p s_i for ``kind`` in POWER (p = 1/2, 1/3, 1/4)."""
    return float(rel) ** POWER[kind] * scale(x, typ)


@njit(cache=True)
def _default(x, c):  # pragma: no cover - jit
    """c max(1, |x_i|) in float64 and whether every step is positive and finite."""
    h = np.empty(x.shape[0])
    ok = True
    for i in range(x.shape[0]):
        h[i] = c * max(1.0, abs(np.float64(x[i])))
        ok = ok and h[i] > 0.0 and h[i] < np.inf
    return h, ok


def steps_for(x, rel, kind, step=None, rel_step=None, typ=None, name="step"):
    """Target steps: ``step`` (absolute, scalar or per coordinate), ``rel_step`` times
    s_i, or the default rule; ValueError naming ``name`` unless positive and finite."""
    if step is None and rel_step is None and typ is None:
        h, ok = _default(x, float(rel) ** POWER[kind])
        if ok:
            return h
        raise ValueError(f"{name} must be positive and finite; got {h}")
    n = np.shape(x)[0]
    if step is not None:
        h = np.asarray(step, dtype=np.float64)
        if h.ndim > 1 or (h.ndim == 1 and h.shape[0] != n):
            raise ValueError(f"{name} must be a scalar or have length {n}; got shape "
                             f"{h.shape}")
        h = np.broadcast_to(np.abs(h), (n,)).copy()
    elif rel_step is not None:
        h = abs(float(rel_step)) * scale(x, typ)
    else:
        h = default_steps(x, rel, kind, typ)
    if not (h.min() > 0 and np.isfinite(h.max())):
        raise ValueError(f"{name} must be positive and finite; got {h}")
    return h


def representable(x, h):
    """(h, xp, xm): steps with xp = x + h exact in x's dtype, xm = x - h.

    ValueError naming the coordinates when a step rounds to zero (h below the spacing of
    the floating-point numbers at x_i)."""
    he, xp, xm, ok = representable_steps(np.ascontiguousarray(x),
                                         np.ascontiguousarray(h, dtype=np.float64))
    if not ok:
        raise step_rounds_to_zero(he)
    return he, xp, xm


def capped_hessian_steps(x, f, dH, rel, typ=None):
    """Hessian steps: the default rule, capped where the widest points x +- 2h_i e_i would
    raise f by more than its own scale, H_ii (2h_i)^2 / 2 <= max(1, |f|); None when no cap
    applies (or diag H is unusable). Kept above 1e3 eps |x_i| (representable)."""
    dH = np.abs(np.asarray(dH, dtype=np.float64))
    if not np.all(np.isfinite(dH)) or not np.any(dH > 0):
        return None
    h0 = default_steps(x, rel, "hessian", typ)
    with np.errstate(divide="ignore"):
        cap = np.sqrt(max(1.0, abs(f)) / (2.0 * dH))
    if np.all(cap >= h0):
        return None
    eps_x = float(np.finfo(np.asarray(x).dtype).eps)
    lo = 1e3 * eps_x * np.abs(np.asarray(x, dtype=np.float64))
    return np.maximum(np.minimum(h0, cap), lo)


def fitted_steps(x, f, dH, rel, kind):
    """(typ, h): the curvature scale of ``dH`` = diag H (:func:`curvature_scale`) and the
    steps of ``kind`` with it, Hessian steps capped as by :func:`capped_hessian_steps`."""
    typ = curvature_scale(f, dH)
    h = capped_hessian_steps(x, f, dH, rel, typ) if kind == "hessian" else None
    return typ, default_steps(x, rel, kind, typ) if h is None else h


@dataclass(frozen=True)
class AxisDifferences:
    """Two central differences of f along the axes at one point: D_a at steps h_a and
    D_b at steps h_b (e.g. the Hessian stencil's gradient at 2h and the loop's)."""

    D_a: np.ndarray
    h_a: np.ndarray
    D_b: np.ndarray
    h_b: np.ndarray

    def third(self, sigma):
        """|t_i|, the third derivatives along the axes (Stepleman & Winarsky 1979).

        D(h) = f'_i + t_i h^2 / 6 + O(h^4) plus rounding ~ sigma / h, so
        t_i ~ 6 (D_a - D_b) / (h_a^2 - h_b^2), counted only beyond the rounding
        K sigma (1/h_a + 1/h_b) of the difference (0 where not measurable).
        """
        ha, hb = np.asarray(self.h_a, float), np.asarray(self.h_b, float)
        den = np.abs(ha * ha - hb * hb)
        diff = np.abs(np.asarray(self.D_a, float) - np.asarray(self.D_b, float))
        excess = np.maximum(diff - K_STEP_NOISE * max(float(sigma), 0.0) * (1 / ha + 1 / hb),
                            0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t = np.where(den > 0, 6.0 * excess / den, 0.0)
        return np.where(np.isfinite(t), t, 0.0)


def third_derivative_steps(x, pair, sigma, rel, tol=0.0, typ=None):
    """Per-coordinate central-gradient steps from f itself (Gill, Murray, Saunders &
    Wright 1983, SIAM J. Sci. Stat. Comput. 4(2)).

    The step minimizing the error h^2 |t_i| / 6 + sigma / h of a central difference is
    h_i = (3 sigma / |t_i|)^(1/3), t_i from ``pair.third(sigma)`` (an
    :class:`AxisDifferences`; None: the default rule); clipped to [1e-2, 1] times the
    default eps_f^(1/3) s_i (the default where t_i = 0) and kept above 1e3 eps |x_i|.
    ``tol``: an accuracy that is good enough; no step is made smaller than the one whose
    truncation |t_i| h^2 / 6 is ``tol``.
    """
    h0 = default_steps(x, rel, "central", typ)
    if pair is None:
        return h0
    t = pair.third(sigma) * np.ones_like(h0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(t > 0, np.maximum(np.cbrt(3.0 * max(float(sigma), 0.0) / t),
                                       np.sqrt(6.0 * float(tol) / t)), h0)
    lo = np.maximum(1e-2 * h0, 1e3 * EPS64 * np.abs(np.asarray(x, dtype=np.float64)))
    return np.clip(np.where(np.isfinite(h) & (h > 0), h, h0), lo, h0)
