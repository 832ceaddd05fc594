"""Stationarity of a point, direction by direction: what is left to gain against what f
and the model can resolve.

In an eigenbasis of H (each eigenvalue lam_k known within ``lam_err``, Weyl's bound plus
eigensolver rounding, :mod:`curvopt.spectrum`; for an equilibrated spectrum the basis
vectors u_k of D^-1 H D^-1 stand for the x-space directions w_k = D^-1 u_k, with
g'w_k = u_k'D^-1 g and w_k'H w_k = lam_k), the gradient component is g_k with error e_k.
Where lam_k is certified positive, the model allows a decrease of at most

    gain_k = (|g_k| + e_k)^2 / (2 (lam_k - lam_err))    (a bound on the Newton decrement)

with the minimizer along v_k at most move_k = (|g_k| + e_k) / (lam_k - lam_err) away.
The resolution of f is tau = 4 sigma (``RESOLUTION_K`` noise levels): a smaller decrease
cannot be seen by comparing values of f. Direction k is

* *stationary* if gain_k <= tau (no decrease f can see is left), or if |g_k| <= e_k and
  the minimizer along it lies within the finite-difference stencil (|move_k w_k| <= h
  in every coordinate: the scale the model was measured on; for a user Hessian the
  resolution of x, sqrt(eps_x) max(1, |x_i|), as in Gill, Murray & Wright's test on
  ||x_k - x_k-1||), or if the minimizer along it lies within the spacing of the floating
  point numbers at x in every coordinate (|move_k w_k| <= spacing(x_i): no representable
  point is nearer to it along v_k, whatever g_k; at f = 0 reached by cancellation the
  noise of f, and with it tau, can be measured as 0); a flat or negatively curved
  direction is stationary if |g_k| <= e_k;
* *not stationary* if |g_k| > e_k (the true gradient along it is nonzero) and, for a
  positive lam_k, even the smallest gain (|g_k| - e_k)^2 / (2 (lam_k + lam_err)) exceeds
  tau;
* *weak* if lam_k is certified positive and |g_k| <= e_k but the minimizer may lie
  beyond the stencil: only values of f further out can tell (the solver probes them).

The point is not stationary if some direction is; stationary if every direction is
stationary or weak; undecided otherwise. Nothing here depends on adding a constant to f
(only through the noise, which grows with |f|: precision, not tolerance) or on where x
sits (only through the errors of g and H, which grow with the steps).

References
----------
Boyd, S. & Vandenberghe, L. (2004). Convex Optimization, sec. 9.5.1 (the Newton
decrement). Gill, P. E., Murray, W. & Wright, M. H. (1981). Practical Optimization,
sec. 8.2.3 (termination criteria).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.spectrum import Spectrum

__all__ = ["RESOLUTION_K", "Directions", "directions", "stationarity", "no_weak"]


#: a decrease of f below RESOLUTION_K noise levels cannot be seen by comparing values of f
RESOLUTION_K = 4.0


@dataclass(frozen=True)
class Directions:
    """Per-eigendirection stationarity evidence (arrays over the eigenvalues of H).

    ``gk = V'g`` with bound ``ek = |V|'g_err``; for directions of certified positive
    curvature, ``gain`` is the largest decrease of f the model allows along v_k,
    (|gk| + ek)^2 / (2 (lam_k - lam_err)), and ``move`` the largest distance to the
    minimizer along v_k, (|gk| + ek) / (lam_k - lam_err) (inf elsewhere); ``reach`` is
    the finite-difference step along v_k, |v_k|'h (the scale the model was measured on).
    Each direction is ``stationary``, ``not_stationary``, ``weak`` (gradient within its
    error but a minimizer possibly beyond the stencil: decided by probing f) or neither.
    """

    gk: np.ndarray
    ek: np.ndarray
    gain: np.ndarray
    move: np.ndarray
    reach: np.ndarray
    stationary: np.ndarray
    not_stationary: np.ndarray
    weak: np.ndarray
    by_gain: np.ndarray


def directions(sp: Spectrum, g, g_err, tau, reach_h, x_spacing=None):
    """Stationarity along each eigendirection (see :class:`Directions`), in the basis of
    the (equilibrated) spectrum: u_k of A = D^-1 H D^-1 is the x-space direction
    w_k = D^-1 u_k, with g'w_k = u_k'(D^-1 g) and w_k'H w_k = lam_k. The curvature of f
    along each line is bounded by ``Spectrum.ray_err`` (|v_k|'B|v_k|, no larger than the
    Weyl bound): a direction counts as positively curved when lam_k - ray_err_k > 0, and
    as not stationary when even with the largest curvature lam_k + ray_err_k the
    decrease left along it exceeds tau (or the curvature is certified negative).
    ``x_spacing``: the spacing of the floating point numbers at x (``np.spacing(|x|)``),
    per coordinate; None: not used."""
    d = np.ones(g.shape[0]) if sp.d is None else sp.d
    gk, ek = sp.V.T @ (g / d), np.abs(sp.V).T @ (g_err / d)
    agk = np.abs(gk)
    err = sp.lam_err if sp.ray_err is None else sp.ray_err    # curvature along v_k
    lo_c, hi_c = sp.lam - err, sp.lam + err
    pos = lo_c > 0                          # f certified convex along the line (NaN: no)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gain = np.where(pos, (agk + ek) ** 2 / (2.0 * lo_c), np.inf)
        move = np.where(pos, (agk + ek) / lo_c, np.inf)
        gain_lo = np.where(hi_c > 0, np.maximum(agk - ek, 0.0) ** 2 / (2.0 * hi_c), np.inf)
        W = np.abs(sp.V) / d[:, None]                # |w_k|: x-displacement per unit of u_k
        h = np.zeros(g.shape[0]) if reach_h is None else np.asarray(reach_h, float)
        within = np.all(move[None, :] * W <= h[:, None], axis=0)   # minimizer in the stencil
        ulp = np.zeros(g.shape[0]) if x_spacing is None else np.asarray(x_spacing, float)
        at_ulp = pos & np.all(move[None, :] * W <= ulp[:, None], axis=0)   # no nearer x
    reach = W.T @ h
    nonzero = agk > ek                      # the true gradient along v_k is not 0
    by_gain = pos & (gain <= tau)
    st = by_gain | at_ulp | (pos & ~nonzero & within) | (~pos & ~nonzero)
    not_st = nonzero & ~st & ~(gain_lo <= tau)      # NaN curvature bound: not decided
    weak = pos & ~st & ~nonzero
    return Directions(gk, ek, gain, move, reach, st, not_st, weak, by_gain)


def stationarity(d: Directions, gn, ge, gtol, tau):
    """(stationary, how, text): the gradient test (see the module docstring)."""
    if gtol is not None and gn + ge <= gtol:
        return True, "gtol", ""
    if d.not_stationary.any():
        k = int(np.argmax(np.where(d.not_stationary, np.abs(d.gk) - d.ek, -np.inf)))
        return False, "", (f"gradient certified nonzero along eigenvector {k} "
                           f"(|v'g| = {abs(d.gk[k]):.3g} > its error {d.ek[k]:.3g})")
    open_ = ~(d.stationary | d.weak)
    if open_.any():
        k = int(np.flatnonzero(open_)[0])
        return None, "", (f"the gradient along eigenvector {k} ({abs(d.gk[k]):.3g} +- "
                          f"{d.ek[k]:.3g}) allows a decrease of f of up to "
                          f"{d.gain[k]:.3g}, above the resolution {tau:.3g} of f, and a "
                          f"minimizer up to {d.move[k]:.3g} away: stationarity cannot be "
                          "resolved at this precision (supply jac or a smaller noise)")
    if d.weak.any():
        return True, "weak", ""
    how = "gain" if np.all(d.by_gain | ~np.isfinite(d.gain)) else "location"
    return True, how, ""


def no_weak(d):
    """Directions with weak ones counted as resolved (the user's gtol decided)."""
    return Directions(d.gk, d.ek, d.gain, d.move, d.reach, d.stationary | d.weak,
                      d.not_stationary, np.zeros_like(d.weak), d.by_gain)
