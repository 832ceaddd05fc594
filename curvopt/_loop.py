"""The trust-region loop's state and its primitive moves (used by :mod:`curvopt.solver`).

The mutable :class:`LoopState`; the noise level of f at x; loading a model; the cheap FD
refresh (whose stencil g and the loop's central g at the same x give the third
derivatives that set the per-coordinate gradient steps, :func:`curvopt.model.gradient_steps`);
the FD Hessian steps; the loop gradient; the trust-region step in the (optionally
scaled) eigenbasis; the trial evaluation; and the accepted move with its gradient and
SR1 update. The policy that combines them is stated in :mod:`curvopt.solver`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from curvopt._secant import (_rel, curvature_class, is_far, loop_gradient, sr1,
                             trust_scaling)
from curvopt.model import AxisDifferences, gradient_steps, local_model
from curvopt.subproblem import damped_trust_region_step, solve_trust_region

__all__ = ["LoopState", "noise_of", "load_model", "refresh", "hessian_steps", "gradient",
           "tr_step", "trial", "accept", "ETA_LOW"]

ETA_LOW = 0.25      # N&W (2006) Alg. 4.1: rho below it rebuilds an SR1 model


@dataclass
class LoopState:
    """Mutable loop state (internal)."""

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    delta: float
    g_tol: float = 0.0            # size of the error of g (hard-case threshold)
    fresh: bool = True            # H is an FD / exact Hessian at x (not an SR1 estimate)
    f_noise: float = 0.0
    cert: object = None           # certificate at x, if any
    kind: str = "start"
    lam_min: float = float("nan")
    g_at_x: bool = False          # g is a central-difference or user gradient at this x
    curvature: str | None = None  # class of the cheap model's H (history only)
    rejects: int = 0              # consecutive rejected steps at x
    d: np.ndarray | None = None   # trust-region scaling: ||D p|| <= delta, D = diag(d)
    strict: bool = False          # gtol shortcut off: certify only when progress stops
    pair: AxisDifferences | None = None  # two central g at one point: gradient steps
    g_step: np.ndarray | None = None  # steps of the central FD gradient g at x, if any
    model: object = None          # last cheap model (its stencil is reused at x)


def noise_of(obj, st):
    """Absolute noise level of f at x: the ECnoise estimate made at x if any (``obj.noise``,
    e.g. by the certificate's model), else the last model's level, the rounding of f, or
    the relative level of the last estimate times |f|."""
    floor = obj.f_eps * abs(st.f)
    if obj.noise is None:
        return max(st.f_noise, floor)
    if obj.noise.f == st.f:
        return max(float(obj.noise.sigma), floor)
    return max(st.f_noise, float(obj.noise.rel) * abs(st.f), floor)


def load_model(st, model, opts):
    st.g, st.H, st.fresh = np.asarray(model.g, float), np.asarray(model.H, float), True
    st.g_step = None
    st.d = trust_scaling(opts.trust_scaling, st.x, st.H, st.d)
    g_err = np.asarray(model.g_err, float)
    if np.all(np.isfinite(g_err)):
        st.g_tol = float(np.linalg.norm(g_err))
    if np.isfinite(model.f_noise):
        st.f_noise = float(model.f_noise)


def refresh(obj, st, opts):
    """Cheap FD model at x (f reused). A central or user gradient already taken at this x
    is kept: the stencil reads g off points ~2 eps^(1/4) away (coarser; far coarser in
    float32 arithmetic). The two central differences of f at x (the stencil's at 2h, the
    loop's at its own step) then also set the per-coordinate gradient steps from the
    third derivative of f (:func:`curvopt.model.gradient_steps`), for free."""
    g, g_tol, keep, g_step = st.g, st.g_tol, st.g_at_x, st.g_step
    model = local_model(obj, st.x, f0=st.f, errors=False, step=hessian_steps(obj, st, opts))
    load_model(st, model, opts)
    st.model = model
    if keep:
        st.g, st.g_tol = g, g_tol
        if g_step is not None and model.step is not None:
            st.pair = AxisDifferences(model.g, 2.0 * model.step, g, g_step)


def hessian_steps(obj, st, opts):
    """Steps of the FD Hessian: ``opts.fd_step``, else the default rule capped so that
    the stencil's widest axis points x +- 2h_i e_i raise f by at most its own scale,
    H_ii (2h_i)^2 / 2 <= max(1, |f|), with H_ii from the current model. The rounding
    floor of the bounds is f_eps max|f| over the stencil (a scalar for all entries), so
    one stiff coordinate (Meyer: H_11 ~ 2e14 at x1 ~ 6e-3, default step 1.2e-4 raising
    f from 88 to 3e7) would otherwise swamp the bounds of all the others."""
    if opts.fd_step is not None:
        return opts.fd_step
    dH = np.abs(np.diag(st.H))
    if not np.all(np.isfinite(dH)) or not np.any(dH > 0):
        return None
    h0 = _rel(obj) ** 0.25 * np.maximum(1.0, np.abs(st.x.astype(float)))
    with np.errstate(divide="ignore"):
        cap = np.sqrt(max(1.0, abs(st.f)) / (2.0 * dH))
    if np.all(cap >= h0):
        return None
    lo = 1e3 * np.finfo(st.x.dtype).eps * np.abs(st.x.astype(float))
    return np.maximum(np.minimum(h0, cap), lo)


def gradient(obj, st, opts, x, f, far=False, H=None):
    """Loop gradient at x with the current per-coordinate central steps; (g, g_tol,
    at_x) and the steps of a central FD estimate recorded in ``st.g_step`` (else None)."""
    step = None
    if not obj.has_grad:
        tol = 0.1 * opts.gtol * max(1.0, abs(f)) / np.sqrt(obj.n)   # 1/10 of ||g|| test
        step = gradient_steps(x, st.pair, noise_of(obj, st), _rel(obj), tol)
    g, g_tol, at_x = loop_gradient(obj, x, f, far, H, step=step)
    st.g_step = step if at_x and step is not None else None
    return g, g_tol, at_x


def tr_step(st, f_eps=0.0):
    """The trust-region step at the current model (eigen path, damped fallback); sets
    ``st.curvature``. With a scaling d the subproblem is solved in q = D p (gradient
    D^-1 g, Hessian D^-1 H D^-1: same inertia, same predicted reduction), N&W sec. 4.5."""
    st.curvature = None
    d = st.d if st.d is not None else 1.0
    g, H = st.g / d, st.H / np.outer(d, d) if st.d is not None else st.H
    try:
        if not np.all(np.isfinite(H)):
            raise np.linalg.LinAlgError("H not finite")
        lam, V = np.linalg.eigh(H)
    except np.linalg.LinAlgError:
        return unscale(damped_trust_region_step(g, H, st.delta), d), np.nan
    st.curvature = curvature_class(lam, f_eps)
    step = solve_trust_region(g, lam, V, st.delta, g_tol=st.g_tol / np.min(d))
    return unscale(step, d), float(lam[0])


def unscale(step, d):
    if np.all(d == 1.0):
        return step
    return replace(step, p=step.p / d, alt=None if step.alt is None else step.alt / d)


def trial(obj, x, p):
    """f(x + p); a non-finite value is returned as +inf (a rejected step)."""
    ft = obj.f((x + p).astype(x.dtype))
    return ft if np.isfinite(ft) else np.inf


def accept(obj, st, p, f_new, opts, rho):
    """Move to x + p: new gradient and SR1 update, or an FD / exact Hessian (policy)."""
    x_new = (st.x + p).astype(st.x.dtype)
    s = x_new.astype(float) - st.x.astype(float)
    st.x, st.f, st.cert, st.g_at_x, st.rejects = x_new, f_new, None, False, 0
    st.g_step = None
    if obj.has_hess or opts.hessian_update == "fd" or rho < ETA_LOW:
        if opts.hessian_update == "fd" and not (obj.has_grad or obj.has_hess):
            st.g, st.g_tol, st.g_at_x = gradient(obj, st, opts, st.x, st.f)  # not the stencil
        refresh(obj, st, opts)
        return
    far = not obj.has_grad and is_far(obj, st.x, st.f, st.g, st.H, opts.gtol)
    g_new, st.g_tol, st.g_at_x = gradient(obj, st, opts, st.x, st.f, far, st.H)
    st.H, st.g, st.fresh = sr1(st.H, s, g_new - st.g), g_new, False
