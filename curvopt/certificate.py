"""Convergence certificate: what f, g, H and their error bounds prove about a point.

Given a :class:`~curvopt.model.LocalModel` (f, g, H with elementwise bounds ``g_err``,
``H_err`` and the noise level sigma of f at x), :func:`certify` decides, *only where the
evidence clears the error bound*.

**Stationarity** compares what is left to gain with what f and the model can resolve, in
the eigenbasis H = V diag(lam) V' (each eigenvalue known within ``lam_err``, Weyl bound
plus eigensolver rounding, :mod:`curvopt.spectrum`). Along eigenvector v_k the gradient
component is g_k = v_k'g with error e_k = |v_k|'g_err. Where lam_k is certified
positive, the model allows a decrease of at most

    gain_k = (|g_k| + e_k)^2 / (2 (lam_k - lam_err))    (a bound on the Newton decrement)

with the minimizer along v_k at most move_k = (|g_k| + e_k) / (lam_k - lam_err) away.
The resolution of f is tau = 4 sigma: a smaller decrease cannot be seen by comparing
values of f. Direction k is

* *stationary* if gain_k <= tau (no decrease f can see is left), or if |g_k| <= e_k and
  move_k is within the finite-difference stencil (|v_k|'h: the scale the model was
  measured on; for a user Hessian the resolution of x, sqrt(eps_x) max(1, |x_i|), as in
  Gill, Murray & Wright's test on ||x_k - x_k-1||); a flat or negatively curved
  direction is stationary if |g_k| <= e_k;
* *not stationary* if |g_k| > e_k (the true gradient along v_k is nonzero) and, for a
  positive lam_k, even the smallest gain (|g_k| - e_k)^2 / (2 (lam_k + lam_err)) exceeds
  tau;
* *weak* if lam_k is certified positive and |g_k| <= e_k but the minimizer may lie
  beyond the stencil: only values of f further out can tell (the solver probes them).

The point is not stationary if some direction is; stationary if every direction is
stationary or weak; undecided otherwise. Nothing here depends on adding a constant to f
(only through the noise, which grows with |f|: precision, not tolerance) or on where x
sits (only through the errors of g and H, which grow with the steps). An optional
absolute ``gtol`` (scipy's meaning: ||g|| + ||g_err|| <= gtol) also counts as stationary.

**Second order** ([1], Thm. 2.3-2.4) at a stationary point: ``minimum`` (every eigenvalue
certified > 0 and no weak direction), ``maximum`` (all certified < 0), ``saddle`` (some
certified < 0, some > 0), ``degenerate`` (none certified < 0; some indistinguishable
from 0 or weak: flat or non-identifiable directions, ``flat_parameters``).

Anything else is ``inconclusive`` with a sentence saying which quantity and by how much.
A NaN error bound means "not estimated" and never supports a decision.

Also reported: ``decrement`` (the sum of gain_k: what the model still allows),
``newton_step`` (the largest move_k), the curvature along the gradient ``g'Hg / g'g`` and
the longest gradient step ``t g`` that still decreases the model, ``t < 2 g'g / g'Hg``,
and standard errors ``sqrt(diag(H^-1))`` for a negative log-likelihood when H is
certified PD ([3]).

References
----------
.. [1] Nocedal, J. & Wright, S. J. (2006). Numerical Optimization, 2nd ed. Springer.
.. [2] Boyd, S. & Vandenberghe, L. (2004). Convex Optimization. Cambridge.
.. [3] Gill, J. & King, G. (2004). What to do when your Hessian is not invertible.
       Sociological Methods & Research 33(1), 54-87.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from curvopt.report import STATIONARITY, format_report, jsonable
from curvopt.model import LocalModel
from curvopt.spectrum import Spectrum, spectrum_of

NOT_SMOOTH = ("f is not smooth at the finite-difference step scale (differences at h, 2h, 4h "
              "disagree beyond its noise): the error bounds were widened accordingly")
#: version of the layout of :meth:`Certificate.to_dict` (CHANGELOG.md records changes)
SCHEMA = 2
CLASSES = ("minimum", "saddle", "maximum", "degenerate", "not_stationary", "inconclusive")


@dataclass(frozen=True, eq=False)
class Certificate:
    """Decision about a candidate point, with the numbers behind it.

    Attributes
    ----------
    classification : str
        One of ``CLASSES``.
    is_minimum : bool
        ``classification == "minimum"``.
    stationary : bool or None
        None when the gradient test is undecided.
    stationarity : str
        How stationarity was decided: ``"gain"``, ``"location"``, ``"weak"``, ``"gtol"``
        (see ``STATIONARITY``), "" when not stationary or undecided.
    f, grad_norm, grad_err : float
        f(x), ``||g||_2`` and its bound ``||g_err||_2``.
    gtol : float or None
        The user's absolute gradient tolerance, if any.
    decrement, newton_step : float or None
        Upper bounds on the decrease of f the model still allows and on the distance to
        its minimizer along the positively curved directions (None if there are none).
    resolution : float
        tau = 4 sigma: the smallest decrease of f that comparisons of f can see.
    lam, lam_err, lam_min, lam_max, cond, rank :
        Ascending eigenvalues of the symmetrized H, their common error bound, extremes,
        condition number and effective rank (see :class:`~curvopt.spectrum.Spectrum`).
    negative_directions : ndarray, shape (n, k)
        Unit eigenvectors of the certified negative eigenvalues (k may be 0).
    flat_directions : ndarray, shape (n, k)
        Unit eigenvectors of the eigenvalues indistinguishable from 0 and of the weak
        directions: where the quadratic model cannot decide, values of f further out can.
    flat_parameters : tuple
        Parameters (names if given, else indices) whose unit vector has a projection
        larger than ``loading`` on ``flat_directions``.
    curvature_along_grad, max_descent_step : float or None
        ``g'Hg / g'g`` and ``2 g'g / g'Hg`` (inf if ``g'Hg <= 0``); None when g = 0.
    standard_errors : ndarray or None
        ``sqrt(diag(H^-1))`` when H is certified PD, else None (see ``se_warning``).
    se_warning, inconclusive : str
        Warnings about the standard errors / what kept the decision open ("" if none).
    evidence : str
        What a solver learned beyond the local model (probes of f along flat
        directions), "" if nothing.
    """

    classification: str
    is_minimum: bool
    stationary: bool | None
    stationarity: str
    f: float
    grad_norm: float
    grad_err: float
    gtol: float | None
    decrement: float | None
    newton_step: float | None
    resolution: float
    lam: np.ndarray
    lam_err: float
    lam_min: float
    lam_max: float
    cond: float
    rank: int
    negative_directions: np.ndarray
    flat_directions: np.ndarray
    flat_parameters: tuple
    curvature_along_grad: float | None
    max_descent_step: float | None
    standard_errors: np.ndarray | None
    se_warning: str
    inconclusive: str
    exact_hessian: bool
    nfev: int
    x: np.ndarray
    names: tuple | None
    evidence: str = ""

    def __str__(self) -> str:
        return format_report(self)

    def to_dict(self) -> dict:
        """JSON-ready dict: python floats/lists; NaN -> None, +-inf -> "inf"/"-inf";
        ``schema`` is the version of this layout (``SCHEMA``, see CHANGELOG.md)."""
        out = {"schema": SCHEMA}
        out.update({fld.name: jsonable(getattr(self, fld.name)) for fld in fields(self)})
        return out


def _validate(model: LocalModel) -> None:
    x = np.asarray(model.x)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"model.x must be a non-empty 1-D array, got shape {x.shape}")
    n = x.size
    if not np.isfinite(model.f):
        raise ValueError(f"f at the point is not finite (f = {model.f})")
    for name, shape in (("g", (n,)), ("g_err", (n,)), ("H", (n, n)), ("H_err", (n, n))):
        if np.shape(getattr(model, name)) != shape:
            raise ValueError(f"{name} has shape {np.shape(getattr(model, name))}, "
                             f"expected {shape} for a point of length {n}")
    if not np.all(np.isfinite(model.g)):
        raise ValueError("the gradient g at the point has non-finite entries "
                         f"at indices {np.flatnonzero(~np.isfinite(model.g)).tolist()}")
    if not np.all(np.isfinite(model.H)):
        raise ValueError("the Hessian H at the point has non-finite entries")
    for name in ("g_err", "H_err"):
        err = np.asarray(getattr(model, name), dtype=np.float64)
        if np.any(err < 0) or np.any(np.isinf(err)):
            raise ValueError(f"{name} must be >= 0 (NaN allowed for 'not estimated')")


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


def _directions(sp: Spectrum, g, g_err, tau, reach_h):
    """Stationarity along each eigendirection (see :class:`Directions`)."""
    gk, ek = sp.V.T @ g, np.abs(sp.V).T @ g_err
    agk = np.abs(gk)
    pos, zero_or_neg = sp.positive, ~sp.positive
    lo_c, hi_c = sp.lam - sp.lam_err, sp.lam + sp.lam_err
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gain = np.where(pos, (agk + ek) ** 2 / (2.0 * lo_c), np.inf)
        move = np.where(pos, (agk + ek) / lo_c, np.inf)
        gain_lo = np.where(pos, np.maximum(agk - ek, 0.0) ** 2 / (2.0 * hi_c), np.inf)
    reach = np.abs(sp.V).T @ reach_h if reach_h is not None else np.zeros(gk.shape)
    nonzero = agk > ek                      # the true gradient along v_k is not 0
    by_gain = pos & (gain <= tau)
    st = by_gain | (pos & ~nonzero & (move <= reach)) | (zero_or_neg & ~nonzero)
    not_st = nonzero & ~st & np.where(pos, gain_lo > tau, True)
    weak = pos & ~st & ~nonzero
    return Directions(gk, ek, gain, move, reach, st, not_st, weak, by_gain)


def _stationarity(d: Directions, gn, ge, gtol, tau):
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


def _curvature_class(sp: Spectrum, d: Directions):
    """Return (classification, text) of the second-order test at a stationary point."""
    if not sp.estimated:
        return "inconclusive", "Hessian error not estimated (NaN): no curvature decision"
    neg, pos = sp.negative, sp.positive & ~d.weak
    if neg.any() and pos.any():
        return "saddle", ""
    if neg.all():
        return "maximum", ""
    if pos.all():
        return "minimum", ""
    if neg.any():
        return "inconclusive", (
            f"negative curvature certified (lam_min = {sp.lam[0]:.3g}) but "
            f"{int((~neg & ~pos).sum())} eigenvalue(s) within +-{sp.lam_err:.3g} of 0 or "
            "weakly curved: saddle or maximum is decided by higher-order terms")
    return "degenerate", ""


def _flat_parameters(Z, names, loading: float) -> tuple:
    """Parameters whose unit vector projects onto span(Z) with length > ``loading``."""
    if Z.shape[1] == 0:
        return ()
    idx = np.flatnonzero(np.sqrt(np.sum(Z ** 2, axis=1)) > loading)
    return tuple(names[i] for i in idx) if names is not None else tuple(int(i) for i in idx)


def _along_gradient(g: np.ndarray, H: np.ndarray):
    gg = float(g @ g)
    if gg == 0.0:
        return None, None
    gHg = float(g @ (H @ g))
    return gHg / gg, (2.0 * gg / gHg if gHg > 0 else float("inf"))


def _standard_errors(sp: Spectrum, stationary, lam_text: str):
    if sp.estimated and sp.positive.all():
        se = np.sqrt(np.sum(sp.V ** 2 / sp.lam, axis=1))
        warn = "" if stationary else ("H^-1 computed at a point not certified stationary: "
                                      "read as standard errors (f a negative "
                                      "log-likelihood) only at the minimizer")
        return se, warn
    return None, (f"H is not certified positive definite ({lam_text}): standard errors "
                  "sqrt(diag(H^-1)) are undefined at this precision; not reported")


def check_options(gtol, loading: float) -> None:
    """ValueError unless gtol is None or 0 < gtol < inf, and 0 < loading < 1."""
    if gtol is not None and not (isinstance(gtol, (int, float, np.floating, np.integer))
                                 and np.isfinite(gtol) and gtol > 0):
        raise ValueError(f"gtol must be None or a positive finite number; got {gtol!r}")
    if not 0 < loading < 1:
        raise ValueError(f"loading must be in (0, 1), got {loading!r}")


def certify(model: LocalModel, *, gtol=None, names=None,
            loading: float = 0.3) -> Certificate:
    """Certify the point of a local model (a pure function: no evaluations of f).

    Parameters
    ----------
    model : LocalModel
        f, g, H at x with elementwise error bounds (NaN entries: not estimated).
    gtol : float, optional
        An absolute gradient tolerance (scipy's meaning): ``||g|| + ||g_err|| <= gtol``
        also counts as stationary. None (default): stationarity is decided by the
        rule of the module docstring alone, which does not depend on the scale of f.
    names : sequence of str, optional
        Parameter names, used in ``flat_parameters`` and the report.
    loading : float
        A parameter is flat when its unit vector projects onto the eigenspace of the
        eigenvalues indistinguishable from 0 with length > ``loading``.

    Returns
    -------
    Certificate

    Raises
    ------
    ValueError
        Shapes inconsistent with x, non-finite f, g or H, negative error bounds.
    """
    check_options(gtol, loading)
    _validate(model)
    x = np.asarray(model.x)
    if names is not None:
        names = tuple(str(s) for s in names)
        if len(names) != x.size:
            raise ValueError(f"{len(names)} names given for a point of length {x.size}")
    f = float(model.f)
    g = np.asarray(model.g, dtype=np.float64)
    g_err = np.asarray(model.g_err, dtype=np.float64)
    sp = spectrum_of(model.H, model.H_err)
    gn, ge = float(np.linalg.norm(g)), float(np.linalg.norm(g_err))
    tau = RESOLUTION_K * float(model.f_noise)
    reach = model.step if model.step is not None else \
        np.sqrt(model.eps_x) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    d = _directions(sp, g, np.nan_to_num(g_err, nan=np.inf), tau, reach)
    if np.isnan(ge):
        stationary, how, text = None, "", (f"gradient error not estimated (NaN); ||g|| = "
                                           f"{gn:.3g}")
    else:
        stationary, how, text = _stationarity(d, gn, ge, gtol, tau)
    if stationary is True:
        cls, text = _curvature_class(sp, d if how != "gtol" else _no_weak(d))
    else:
        cls = "not_stationary" if stationary is False else "inconclusive"
        if stationary is None and sp.negative.any():
            text += "; negative curvature is certified, so it is not a minimum"
    if not getattr(model, "smooth", True) and cls not in ("minimum", "saddle", "maximum"):
        text = (NOT_SMOOTH + "; " + text) if text else NOT_SMOOTH
    lam_text = f"lam_min = {sp.lam[0]:.4g} +- {sp.lam_err:.3g}"
    se, se_warning = _standard_errors(sp, stationary, lam_text)
    pos = sp.positive
    H = np.asarray(model.H, dtype=np.float64)
    curv, step = _along_gradient(g, 0.5 * (H + H.T))
    flat = sp.zero | (d.weak if how != "gtol" else False)
    return Certificate(
        classification=cls, is_minimum=cls == "minimum", stationary=stationary,
        stationarity=how, f=f, grad_norm=gn, grad_err=ge, gtol=gtol,
        decrement=float(np.sum(d.gain[pos])) if pos.any() else None,
        newton_step=float(np.max(d.move[pos])) if pos.any() else None, resolution=tau,
        lam=sp.lam, lam_err=sp.lam_err, lam_min=float(sp.lam[0]), lam_max=float(sp.lam[-1]),
        cond=sp.cond, rank=sp.rank, negative_directions=sp.V[:, sp.negative],
        flat_directions=sp.V[:, flat], flat_parameters=_flat_parameters(sp.V[:, flat], names, loading),
        curvature_along_grad=curv, max_descent_step=step, standard_errors=se,
        se_warning=se_warning, inconclusive=text, exact_hessian=bool(model.exact_hessian),
        nfev=int(model.nfev), x=x.copy(), names=names)


def _no_weak(d):
    """Directions with weak ones counted as resolved (the user's gtol decided)."""
    return Directions(d.gk, d.ek, d.gain, d.move, d.reach, d.stationary | d.weak,
                      d.not_stationary, np.zeros_like(d.weak), d.by_gain)
