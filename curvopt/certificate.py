"""Convergence certificate: what f, g, H and their error bounds prove about a point.

Given a :class:`~curvopt.model.LocalModel` (f, g, H with elementwise bounds ``g_err``,
``H_err`` and the noise level sigma of f at x), :func:`certify` decides, *only where the
evidence clears the error bound*.

**Stationarity** compares what is left to gain with what f and the model can resolve,
direction by direction in the eigenbasis (:mod:`curvopt.stationarity`): gain_k, the
decrease of f the model still allows along v_k, against the resolution tau = 4 sigma of
f, and the distance to the minimizer along v_k against the finite-difference stencil.
An optional absolute ``gtol`` (scipy's meaning: ||g|| + ||g_err|| <= gtol) also counts.

**Signs of eigenvalues** are decided by Weyl's bound on H or, when that decides more of
them, on the equilibrated D^-1 H D^-1 (D_i = sqrt(max_j |H_ij|)): by Sylvester's law of
inertia it has H's numbers of positive, negative and zero eigenvalues, and the error of
each entry is judged against its own row's scale, so a parameter of size 1e-5 next to one
of size 1 no longer hides every small eigenvalue under the stiffest entry's
error (:func:`curvopt.spectrum.spectrum_of`). ``lam``, ``lam_err`` report H's own
eigenvalues; ``inertia`` the certified counts.

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

from curvopt.report import format_report, jsonable
from curvopt.model import LocalModel
from curvopt.spectrum import Spectrum, spectrum_of
from curvopt.stationarity import RESOLUTION_K, Directions, directions, no_weak, stationarity

NOT_SMOOTH = ("f is not smooth at the finite-difference step scale (differences at h, 2h, 4h "
              "disagree beyond its noise): the error bounds were widened accordingly")
#: version of the layout of :meth:`Certificate.to_dict` (CHANGELOG.md records changes)
SCHEMA = 3
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
        (see ``curvopt.report.STATIONARITY``), "" when not stationary or undecided.
    f, grad_norm, grad_err : float
        f(x), ``||g||_2`` and its bound ``||g_err||_2``.
    gtol : float or None
        The user's absolute gradient tolerance, if any.
    decrement, newton_step : float or None
        Upper bounds on the decrease of f the model still allows and on the distance to
        its minimizer along the positively curved directions (None if there are none).
    resolution : float
        tau = 4 sigma: the smallest decrease of f that comparisons of f can see.
    lam, lam_err, lam_min, lam_max, cond :
        Ascending eigenvalues of the symmetrized H, their common Weyl error bound,
        extremes and condition number (see :class:`~curvopt.spectrum.Spectrum`).
    inertia, rank :
        (certified negative, undecided, certified positive) eigenvalue counts of H, decided
        on the equilibrated D^-1 H D^-1 (same inertia, Sylvester), and their effective rank.
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
    exact_hessian : bool
        True when H came from the user's ``hess`` (else finite differences).
    nfev : int
        Evaluations of f the model behind this certificate cost.
    x : ndarray, shape (n,)
        The certified point (a copy).
    names : tuple of str or None
        Parameter names used in the report.
    evidence : str
        What a solver learned beyond the local model (probes of f along flat
        directions), "" if nothing.
    method : str
        How the eigenvalue signs were decided: ``"dense"`` (eigh of H with Weyl's bound),
        ``"sparse"`` (a sparse H on ``hess_sparsity``: dense eigh or the pivots of an
        LDL^T) or ``"lanczos"`` (products only; ``lam`` holds Ritz values), see
        :mod:`curvopt.krylov_certificate`.
    failure_probability : float
        0 for a deterministic certificate; for ``"lanczos"`` the probability that the
        lower bound on lam_min is wrong (Kuczynski & Wozniakowski 1992).
    lam_min_bound : float or None
        The certified lower bound on lam_min used for "minimum" (None when not formed).
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
    inertia: tuple = (0, 0, 0)
    evidence: str = ""
    method: str = "dense"
    failure_probability: float = 0.0
    lam_min_bound: float | None = None

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


def _deciding(sp: Spectrum, eq: Spectrum) -> Spectrum:
    """The spectrum whose bound decides more signs: the equilibrated one for a badly
    scaled H (parameters of very different sizes), the plain one when a row of H is all
    noise (equilibration blows that row's error up to the size of every other). Both are
    sound (Weyl on H, or on D^-1 H D^-1 with Sylvester), so either choice is."""
    decided = lambda s: int(s.negative.sum() + s.positive.sum())   # noqa: E731
    return eq if decided(eq) > decided(sp) else sp


def _negative_directions(sp: Spectrum, sc: Spectrum) -> np.ndarray:
    """Eigenvectors of H's certified negative eigenvalues when the plain bound certifies
    as many as the equilibrated one (the steepest escape directions), else the
    equilibrated directions D^-1 u_k, each of certified negative curvature."""
    if sp.negative.sum() == sc.negative.sum():
        return sp.V[:, sp.negative]
    return sc.directions(sc.negative)


def _standard_errors(sp: Spectrum, stationary, lam_text: str):
    if sp.estimated and sp.positive.all():
        d = np.ones(sp.lam.shape[0]) if sp.d is None else sp.d
        se = np.sqrt(np.sum(sp.V ** 2 / sp.lam, axis=1)) / d     # diag(D^-1 A^-1 D^-1)
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
        The classification with the bounds that decided it (``nfev``: the model's).

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
    sp = spectrum_of(model.H, model.H_err)                  # reported: H's eigenvalues
    sc = _deciding(sp, spectrum_of(model.H, model.H_err, scaled=True))
    gn, ge = float(np.linalg.norm(g)), float(np.linalg.norm(g_err))
    tau = RESOLUTION_K * float(model.f_noise)
    reach = model.step if model.step is not None else \
        np.sqrt(model.eps_x) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    d = directions(sc, g, np.nan_to_num(g_err, nan=np.inf), tau, reach,
                   x_spacing=np.spacing(np.abs(x)).astype(np.float64))
    if np.isnan(ge):
        stationary, how, text = None, "", (f"gradient error not estimated (NaN); ||g|| = "
                                           f"{gn:.3g}")
    else:
        stationary, how, text = stationarity(d, gn, ge, gtol, tau)
    if stationary is True:
        cls, text = _curvature_class(sc, d if how != "gtol" else no_weak(d))
    else:
        cls = "not_stationary" if stationary is False else "inconclusive"
        if stationary is None and sc.negative.any():
            text += "; negative curvature is certified, so it is not a minimum"
    if not getattr(model, "smooth", True) and cls not in ("minimum", "saddle", "maximum"):
        text = (NOT_SMOOTH + "; " + text) if text else NOT_SMOOTH
    lam_text = f"lam_min = {sp.lam[0]:.4g} +- {sp.lam_err:.3g}"
    se, se_warning = _standard_errors(sc, stationary, lam_text)
    pos = sc.positive
    H = np.asarray(model.H, dtype=np.float64)
    curv, step = _along_gradient(g, 0.5 * (H + H.T))
    flat = sc.zero | (d.weak if how != "gtol" else False)
    curved = np.isfinite(d.gain)              # certified convex along the line
    return Certificate(
        classification=cls, is_minimum=cls == "minimum", stationary=stationary,
        stationarity=how, f=f, grad_norm=gn, grad_err=ge, gtol=gtol,
        decrement=float(np.sum(d.gain[curved])) if curved.any() else None,
        newton_step=float(np.max(d.move[curved])) if curved.any() else None, resolution=tau,
        lam=sp.lam, lam_err=sp.lam_err, lam_min=float(sp.lam[0]), lam_max=float(sp.lam[-1]),
        cond=sp.cond, rank=sc.rank, negative_directions=_negative_directions(sp, sc),
        flat_directions=sc.directions(flat),
        flat_parameters=_flat_parameters(sc.directions(flat), names, loading),
        inertia=(int(sc.negative.sum()), int(sc.lam.size - sc.negative.sum() - pos.sum()),
                 int(pos.sum())),
        curvature_along_grad=curv, max_descent_step=step, standard_errors=se,
        se_warning=se_warning, inconclusive=text, exact_hessian=bool(model.exact_hessian),
        nfev=int(model.nfev), x=x.copy(), names=names)
