"""Convergence certificate: what f, g, H and their error bounds prove about a point.

Given a :class:`~curvopt.model.LocalModel` (f, g, H with elementwise bounds ``g_err``,
``H_err``), :func:`certify` decides, *only where the evidence clears the error bound*:

* stationarity, on the scaled gradient norm. With ``e = ||g_err||_2`` (a bound on
  ``||g - grad f||_2``) and ``tol = gtol * max(1, |f|)``: stationary when
  ``||g|| + e <= tol``; not stationary when ``||g|| - e > tol``; otherwise undecided.
* the second-order test ([1], Thm. 2.3-2.4) on the spectrum of the symmetrized H, each
  eigenvalue known to within ``lam_err`` (Weyl bound plus eigensolver rounding, see
  :mod:`curvopt.spectrum`): ``minimum`` (all certified > 0), ``maximum`` (all certified
  < 0), ``saddle`` (some certified < 0 and some > 0), ``degenerate`` (none certified < 0,
  some indistinguishable from 0: a flat direction, non-identifiable parameters).

Anything else is ``inconclusive`` with a sentence saying which quantity and by how much.
A NaN error bound means "not estimated" and never supports a decision.

Also reported: the Newton decrement ``g'H^-1 g / max(1, |f|)`` (``rel_grad``; twice the
decrease of f the quadratic model still predicts, relative to f; [2] Sec. 9.5.1), the
curvature along the gradient ``g'Hg / g'g`` and the longest gradient step ``t g`` that
still decreases the model, ``t < 2 g'g / g'Hg`` (inf when ``g'Hg <= 0``), and standard
errors ``sqrt(diag(H^-1))`` for a negative log-likelihood when H is certified PD ([3]).

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

from curvopt._report import format_report
from curvopt.model import LocalModel
from curvopt.spectrum import Spectrum, spectrum_of

NOT_SMOOTH = ("f is not smooth at the finite-difference step scale (differences at h, 2h, 4h "
              "disagree beyond its noise): the error bounds were widened accordingly")
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
    f, grad_norm, grad_err, grad_tol : float
        f(x), ``||g||_2``, its bound ``||g_err||_2`` and the absolute tolerance used.
    rel_grad : float or None
        Newton decrement ``g'H^-1 g / max(1, |f|)`` when H is certified PD.
    lam, lam_err, lam_min, lam_max, cond, rank :
        Ascending eigenvalues of the symmetrized H, their common error bound, extremes,
        condition number and effective rank (see :class:`~curvopt.spectrum.Spectrum`).
    negative_directions : ndarray, shape (n, k)
        Unit eigenvectors of the certified negative eigenvalues (k may be 0).
    flat_parameters : tuple
        Parameters (names if given, else indices) whose unit vector has a projection
        larger than ``loading`` on the eigenspace indistinguishable from 0.
    curvature_along_grad, max_descent_step : float or None
        ``g'Hg / g'g`` and ``2 g'g / g'Hg`` (inf if ``g'Hg <= 0``); None when g = 0.
    standard_errors : ndarray or None
        ``sqrt(diag(H^-1))`` when H is certified PD, else None (see ``se_warning``).
    se_warning, inconclusive : str
        Warnings about the standard errors / what kept the decision open ("" if none).
    """

    classification: str
    is_minimum: bool
    stationary: bool | None
    f: float
    grad_norm: float
    grad_err: float
    grad_tol: float
    rel_grad: float | None
    lam: np.ndarray
    lam_err: float
    lam_min: float
    lam_max: float
    cond: float
    rank: int
    negative_directions: np.ndarray
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

    def __str__(self) -> str:
        return format_report(self)

    def to_dict(self) -> dict:
        """JSON-ready dict: python floats/lists; NaN -> None, +-inf -> "inf"/"-inf"."""
        return {fld.name: _jsonable(getattr(self, fld.name)) for fld in fields(self)}


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return [_jsonable(u) for u in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_jsonable(u) for u in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if np.isnan(v) else (v if np.isfinite(v) else ("inf" if v > 0 else "-inf"))
    return v


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


def _stationarity(gn: float, ge: float, tol: float, gtol: float):
    """Return (stationary, text) for the gradient test."""
    if np.isnan(ge):
        return None, f"gradient error not estimated (NaN); ||g|| = {gn:.3g}, tolerance {tol:.3g}"
    if gn + ge <= tol:
        return True, ""
    if gn - ge > tol:
        return False, ""
    if ge > tol:
        return None, (f"gradient error bound {ge:.3g} exceeds the tolerance {tol:.3g} "
                      f"(gtol={gtol:g} x max(1,|f|)) by a factor {ge / tol:.3g}: "
                      "stationarity cannot be resolved at this precision (supply jac or "
                      "raise gtol)")
    return None, (f"||g|| = {gn:.3g} +- {ge:.3g} straddles the tolerance {tol:.3g}: "
                  f"over by {gn + ge - tol:.3g} at worst, under by {tol - gn + ge:.3g} at best")


def _curvature_class(sp: Spectrum):
    """Return (classification, text) of the second-order test at a stationary point."""
    if not sp.estimated:
        return "inconclusive", "Hessian error not estimated (NaN): no curvature decision"
    neg, pos, zero = sp.negative, sp.positive, sp.zero
    if neg.any() and pos.any():
        return "saddle", ""
    if neg.all():
        return "maximum", ""
    if pos.all():
        return "minimum", ""
    if neg.any():
        return "inconclusive", (
            f"negative curvature certified (lam_min = {sp.lam[0]:.3g}) but {int(zero.sum())} "
            f"eigenvalue(s) within +-{sp.lam_err:.3g} of 0: saddle or maximum is decided by "
            "higher-order terms")
    return "degenerate", ""


def _flat_parameters(sp: Spectrum, names, loading: float) -> tuple:
    Z = sp.V[:, sp.zero]
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
        warn = "" if stationary else ("computed at a point not certified stationary: "
                                      "valid only at the maximum-likelihood estimate")
        return se, warn
    return None, (f"H is not certified positive definite ({lam_text}): standard errors "
                  "sqrt(diag(H^-1)) are undefined at this precision; not reported")


def check_options(gtol: float, loading: float) -> None:
    """ValueError unless 0 < gtol < inf and 0 < loading < 1."""
    if not (np.isfinite(gtol) and gtol > 0):
        raise ValueError(f"gtol must be a positive finite number, got {gtol!r}")
    if not 0 < loading < 1:
        raise ValueError(f"loading must be in (0, 1), got {loading!r}")


def certify(model: LocalModel, *, gtol: float = 1e-5, names=None,
            loading: float = 0.3) -> Certificate:
    """Certify the point of a local model (a pure function: no evaluations of f).

    Parameters
    ----------
    model : LocalModel
        f, g, H at x with elementwise error bounds (NaN entries: not estimated).
    gtol : float
        Relative gradient tolerance: stationary means ``||g|| <= gtol * max(1, |f|)``
        for the true gradient, certified through ``||g|| + ||g_err|| <= tol``.
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
    sp = spectrum_of(model.H, model.H_err)
    gn = float(np.linalg.norm(g))
    ge = float(np.linalg.norm(np.asarray(model.g_err, dtype=np.float64)))
    tol = gtol * max(1.0, abs(f))
    stationary, text = _stationarity(gn, ge, tol, gtol)
    if stationary is True:
        cls, text = _curvature_class(sp)
    else:
        cls = "not_stationary" if stationary is False else "inconclusive"
        if stationary is None and sp.negative.any():
            text += "; negative curvature is certified, so it is not a minimum"
    if not getattr(model, "smooth", True) and cls not in ("minimum", "saddle", "maximum"):
        text = (NOT_SMOOTH + "; " + text) if text else NOT_SMOOTH
    lam_text = f"lam_min = {sp.lam[0]:.4g} +- {sp.lam_err:.3g}"
    se, se_warning = _standard_errors(sp, stationary, lam_text)
    rel = None
    if se is not None:
        rel = float(np.sum((sp.V.T @ g) ** 2 / sp.lam)) / max(1.0, abs(f))
    H = np.asarray(model.H, dtype=np.float64)
    curv, step = _along_gradient(g, 0.5 * (H + H.T))
    return Certificate(
        classification=cls, is_minimum=cls == "minimum", stationary=stationary, f=f,
        grad_norm=gn, grad_err=ge, grad_tol=tol, rel_grad=rel, lam=sp.lam,
        lam_err=sp.lam_err, lam_min=float(sp.lam[0]), lam_max=float(sp.lam[-1]),
        cond=sp.cond, rank=sp.rank, negative_directions=sp.V[:, sp.negative],
        flat_parameters=_flat_parameters(sp, names, loading), curvature_along_grad=curv,
        max_descent_step=step, standard_errors=se, se_warning=se_warning,
        inconclusive=text, exact_hessian=bool(model.exact_hessian), nfev=int(model.nfev),
        x=x.copy(), names=names)
