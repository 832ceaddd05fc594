"""Local quadratic model of f at a point, with error bounds.

    m(p) = f + g'p + p'Hp / 2

where g and H approximate grad f(x) and hess f(x). Each carries an elementwise bound
(``g_err``, ``H_err``) on its error, so that the layers above (spectrum, certificate, step)
can tell a real property of f from a property of the numerical error.

:func:`local_model` builds the record from the best information the objective has:

* ``hess`` callable: H = (hess(x) + hess(x)')/2, ``exact_hessian=True``,
  H_err = gamma_n max|H| + |hess(x) - hess(x)'|/2 (rounding level in the precision of
  the Hessian's dtype, gamma_n = n u / (1 - n u); for a float32 Hessian its measured
  error, see :func:`_user_hessian`), or the user's ``hess_err``;
* ``hessp`` callable: H column by column from hessp(x, e_i), same bounds;
* ``jac`` only: H by central differences of the gradient (2n gradients; 4n with errors);
* nothing: the 2n^2 + 1 function-values stencil (:mod:`curvopt.fd.estimates`), g read
  from its axis points; with ``errors`` (4n^2 + 2n + 1 values: stencils at h and 2h and
  the smoothness check) also a dedicated central gradient at h ~ eps_f^(1/3) (4n more),
  keeping per component the estimate with the smaller bound.

A user gradient gets the bound g_err = 10 u (|g| + |H| max(1, |x|)), its assumed rounding
level (u of the gradient's dtype), or the user's ``jac_err``. With ``errors=False`` (the
solver's cheap path) no second step is taken: g_err and H_err are NaN ("not estimated").

The noise of f enters as a :class:`~curvopt.fd.noise.NoiseEstimate` passed by the
caller (measured here by ECnoise when ``errors`` and none is given); ``f_noise`` of the
model is the noise of f at x, the resolution the certificate compares decreases with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import isfinite

import numpy as np

from curvopt.fd.bounds import K_NOISE, S_TRUNC, EPS64
from curvopt.fd.estimates import Stencil, gradient_estimate, hessian_estimate
from curvopt.fd.noise import NoiseEstimate, assumed_noise, ecnoise, estimate_noise
from curvopt.fd.steps import fitted_steps, representable, steps_for
from curvopt.objective import NonFiniteError

__all__ = ["LocalModel", "local_model", "base_value"]


@dataclass(frozen=True)
class LocalModel:
    """f, g, H at x with elementwise error bounds.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The point (float64).
    f : float
        f(x).
    g : ndarray, shape (n,)
        Gradient estimate.
    H : ndarray, shape (n, n)
        Symmetric Hessian estimate.
    g_err : ndarray, shape (n,)
        Elementwise bound on ``|g - grad f(x)|`` (NaN: not estimated).
    H_err : ndarray, shape (n, n)
        Elementwise bound on ``|H - hess f(x)|`` (symmetric; NaN: not estimated).
    f_noise : float
        Noise level of f at x (standard deviation: ECnoise, or the rounding ``f_eps |f|``).
    exact_hessian : bool
        True when H came from a user-supplied callable.
    nfev : int
        Function evaluations spent building this model.
    step : ndarray or None
        Finite-difference steps h used for H (None when H came from the user).
    smooth : bool
        False when the function-values stencil found f not smooth at the step scale
        (the bounds were then widened, see :func:`curvopt.fd.bounds.jump_amplitude`).
    eps_x : float
        Unit roundoff of x's dtype (the resolution of the point).
    noise : NoiseEstimate or None
        The noise estimate of f the model was built with (its ``sigma`` is ``f_noise``).
    stencil : Stencil or None
        The raw stencil of a cheap function-values model (``errors=False``), which
        ``local_model(errors=True, reuse=model)`` at the same x builds on.
    typ : ndarray or None
        The typical sizes the default steps were scaled with (s_i = max(|x_i|, typ_i),
        :func:`curvopt.fd.steps.curvature_scale`); None: typ_i = 1.
    """

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    g_err: np.ndarray
    H_err: np.ndarray
    f_noise: float = 0.0
    exact_hessian: bool = False
    nfev: int = 0
    step: np.ndarray | None = None
    smooth: bool = True
    eps_x: float = EPS64
    noise: NoiseEstimate | None = field(default=None, repr=False, compare=False)
    stencil: Stencil | None = field(default=None, repr=False, compare=False)
    typ: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def predicted_reduction(self, p: np.ndarray) -> float:
        """-(g'p + p'Hp/2): the decrease of f the model predicts for step p."""
        return -(float(self.g @ p) + 0.5 * float(p @ (self.H @ p)))


def base_value(obj, x, f0=None):
    """f(x), evaluated unless given; NonFiniteError (a ValueError) naming x if not finite."""
    f0 = obj.f(x) if f0 is None else float(f0)
    if not isfinite(f0):
        raise NonFiniteError(f"f(x) = {f0} is not finite at the base point x = {x}")
    return f0


def local_model(obj, x, *, f0=None, noise=None, errors=True, step=None, hess_err=None,
                jac_err=None, grad_steps=None, reuse=None, typ=None, fit_scale=False):
    """Build the :class:`LocalModel` of ``obj`` at x.

    Parameters
    ----------
    obj : curvopt.objective.Objective
    x : array_like, shape (n,)
    f0 : float, optional
        f(x) when already known (not re-evaluated).
    noise : NoiseEstimate, optional
        Noise of f near x. None: measured by ECnoise at x when ``errors`` (and some
        derivative comes from finite differences), else the rounding level.
    errors : bool
        Estimate the error bounds (second step 2h, smoothness check, dedicated gradient).
        False: cheap path, at most 2n^2 + 1 evaluations, NaN bounds.
    step : float or array, optional
        Absolute finite-difference step of H (default from the noise, see
        :mod:`curvopt.fd.steps`).
    hess_err, jac_err : float or array, optional
        Known elementwise bounds on the error of the user's ``hess`` (or ``hessp``) and
        ``jac``, used instead of the rounding-level estimates.
    grad_steps : ndarray, optional
        Steps of the dedicated central gradient (function values only, ``errors``),
        e.g. from third derivatives (:func:`curvopt.fd.steps.third_derivative_steps`).
    reuse : LocalModel, optional
        A cheap model (``errors=False``, function values only) at the same x and f, with
        steps at least half of those this call would take: its stencil is reused
        (2n^2 evaluations saved). Ignored otherwise.
    typ : ndarray, optional
        Typical sizes of the coordinates for the default steps (s_i = max(|x_i|, typ_i);
        :mod:`curvopt.fd.steps`); None: 1.
    fit_scale : bool
        Fit the steps to the curvature found (:func:`curvopt.fd.steps.curvature_scale`):
        where diag H asks for steps more than 4 times shorter than those taken, the model
        is built again with them (at most twice; finite-difference H only; the given
        ``step`` is replaced).
    """
    model = _local_model(obj, x, f0, noise, errors, step, hess_err, jac_err, grad_steps,
                         reuse, typ)
    for _ in range(2 if fit_scale else 0):
        if model.step is None:
            break
        kind = "central" if obj.has_grad else "hessian"
        typ, h = fitted_steps(obj.point(x), model.f, np.diag(model.H), model.noise.step_rel,
                              kind)
        if not np.any(h < 0.25 * model.step):
            break
        nfev = model.nfev
        model = _local_model(obj, x, model.f, model.noise, errors, h, hess_err, jac_err,
                             None, None, typ)
        model = replace(model, nfev=model.nfev + nfev)
    return model


def _local_model(obj, x, f0, noise, errors, step, hess_err, jac_err, grad_steps, reuse,
                 typ):
    """One build of :func:`local_model` (no refit)."""
    start = obj.nfev
    x = obj.point(x)
    f0 = base_value(obj, x, f0)
    if noise is None:
        fd = not (obj.has_grad and (obj.has_hess or obj.has_hessp))
        noise = estimate_noise(obj, x, f0) if errors and fd else assumed_noise(obj, f0)
    sigma, rel = noise.sigma, noise.step_rel
    h, smooth = None, True
    first = None
    if obj.has_hess or obj.has_hessp:
        H, H_err = _user_hessian(obj, x, hess_err, probe=errors)
        g, g_err = _gradient(obj, x, f0, sigma, rel, H, errors, jac_err, typ)
    elif obj.has_grad:
        H, H_err, h = _jac_hessian(obj, x, rel, errors, step, typ)
        g, g_err = _gradient(obj, x, f0, sigma, rel, H, errors, jac_err, typ)
    else:
        h_target = steps_for(x, rel, "hessian", step, typ=typ, name="fd_step")
        if _reusable(reuse, x, f0, h_target):
            first = reuse.stencil
        r = hessian_estimate(obj, x, f0, sigma, h_target, errors=errors, first=first)
        H, g, H_err, g_err, h, smooth = r.H, r.g, r.H_err, r.g_err, r.h, r.smooth
        first = r.stencil if not errors else None
        if errors:    # the stencil's rounding floor (its widest points) is not the
            s_g = sigma if smooth else r.sigma     # gradient's: it gets its own
            g, g_err = _sharpen(obj, x, f0, s_g, rel, g, g_err, grad_steps, typ)
    return LocalModel(x=x.astype(np.float64), f=f0, g=g, H=H, g_err=g_err, H_err=H_err,
                      f_noise=float(sigma), exact_hessian=h is None, nfev=obj.nfev - start,
                      step=h, smooth=smooth, eps_x=obj.eps_x, noise=noise, stencil=first,
                      typ=typ)


def _reusable(model, x, f0, h_full):
    """True if ``model`` is a cheap function-values model at x with f(x) = f0 whose
    steps are at least half those of a full build ``h_full`` (a noise level measured
    now above the one its steps assumed asks for the larger steps of a new stencil)."""
    return (model is not None and model.stencil is not None and model.f == f0
            and np.array_equal(model.x, x.astype(np.float64))
            and bool(np.all(model.stencil.h >= 0.5 * h_full)))


def _user_hessian(obj, x, hess_err=None, probe=True):
    """(H, H_err) from a user hess or hessp callable: symmetrized, rounding-level bound.

    H_err = |A - A'|/2 + (``hess_err`` when given, else max(gamma_n max|H|, probe)) with
    u the unit roundoff of the Hessian's dtype (or x's, or f's, whichever is coarsest)
    and gamma_n = n u / (1 - n u), the rounding bound of a length-n inner product
    (Higham 2002, Lemma 3.1), with max|H| standing in for the unknown sum of |terms|.
    Cancellation inside the user's formula is not bounded by any multiple of |H|, so for
    u > eps_64 the error is measured (``probe``, see :func:`_precision_probe`).
    """
    if obj.has_hess:
        A = obj.hess(x)
    else:
        A = np.column_stack([obj.hessp(x, e) for e in np.eye(obj.n)])
    H = 0.5 * (A + A.T)
    asym = 0.5 * np.abs(A - A.T)
    if hess_err is not None:
        return H, asym + _nonneg(hess_err, H.shape, "hess_err")
    u, n = obj.hess_eps, obj.n
    E = np.full(H.shape, n * u / max(1.0 - n * u, 0.5) * np.abs(H).max())
    if probe and u > EPS64 and obj.has_hess:
        E = np.maximum(E, _precision_probe(obj, x, A))
    return H, asym + E


def _nonneg(err, shape, name):
    """A user error bound broadcast to ``shape``; ValueError if negative or not finite."""
    e = np.asarray(err, dtype=np.float64)
    if e.ndim > len(shape) or not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError(f"{name} must be finite and >= 0, a scalar or of shape {shape}")
    try:
        return np.broadcast_to(e, shape).copy()
    except ValueError:
        raise ValueError(f"{name} has shape {e.shape}; expected a scalar or {shape}") from None


def _precision_probe(obj, x, A):
    """Measured error of a low-precision user Hessian A at x (elementwise).

    If hess accepts x in float64 and then computes in float64 (numpy code that follows
    its input's dtype), 2 |A - hess(x64)| (one call). Otherwise the noise of each entry
    along a line, ECnoise (More & Wild 2011) on hess(x + t delta p), t = -3..3 (6 calls),
    K max sigma_ij; the direction p is seeded (``default_rng(0)``).
    """
    x64 = x.astype(np.float64)
    out = np.asarray(obj.raw_hess(x64))
    if out.dtype == np.float64 and out.size == A.size:
        return 2.0 * np.abs(A - out.reshape(A.shape))
    p = np.random.default_rng(0).uniform(-1.0, 1.0, obj.n) * np.maximum(1.0, np.abs(x64))
    T = [A if k == 0 else obj.hess((x64 + 1e-4 * k * p).astype(obj.dtype)) for k in range(-3, 4)]
    T = np.array(T).reshape(7, -1)
    sig = [ecnoise(T[:, j])[0] for j in range(T.shape[1])]
    return np.full(A.shape, K_NOISE * float(np.nanmax(np.concatenate([[0.0], sig]))))


def _gradient(obj, x, f0, sigma, rel, H, errors, jac_err=None, typ=None):
    """User gradient with its rounding bound (``jac_err`` when given), or central
    differences. The rounding bound 10 u (|g| + |H| max(1, |x|)) uses the unit roundoff
    u of the gradient's dtype (or x's, or f's, whichever is coarsest)."""
    if obj.has_grad:
        g = obj.grad(x)
        if jac_err is not None:
            return g, _nonneg(jac_err, g.shape, "jac_err")
        scale = np.abs(H) @ np.maximum(1.0, np.abs(x.astype(np.float64)))
        return g, 10.0 * obj.jac_eps * (np.abs(g) + scale)
    est = gradient_estimate(obj, x, f0, sigma, steps_for(x, rel, "central", typ=typ),
                            errors=errors)
    return est.value, (est.error if errors else est.value + np.nan)


def _sharpen(obj, x, f0, sigma, rel, g, g_err, step=None, typ=None):
    """Per component, the better of the stencil's g (axis points at 2h and 4h, h ~
    eps_f^(1/4)) and a dedicated central gradient at h ~ eps_f^(1/3) (or ``step``) with
    its Richardson bound (4n evaluations). Both bounds hold for the same true gradient,
    so the smaller one is kept."""
    h = steps_for(x, rel, "central", typ=typ) if step is None else step
    est = gradient_estimate(obj, x, f0, sigma, h, errors=True)
    take = est.error < g_err
    return np.where(take, est.value, g), np.where(take, est.error, g_err)


def _jac_columns(obj, x, h):
    """Central differences of the user gradient: columns (g(x+h_i e_i) - g(x-h_i e_i))/(2h_i)."""
    h, xp, xm = representable(x, h)
    A = np.empty((obj.n, obj.n))
    gmax = 0.0
    for i in range(obj.n):
        y = x.copy()
        y[i] = xp[i]
        gp = obj.grad(y)
        y[i] = xm[i]
        gm = obj.grad(y)
        A[:, i] = (gp - gm) / (xp[i].astype(np.float64) - xm[i].astype(np.float64))
        gmax = max(gmax, np.abs(gp).max(), np.abs(gm).max())
    return 0.5 * (A + A.T), A, h, gmax


def _jac_hessian(obj, x, rel, errors, step, typ=None):
    """(H, H_err, h) from 2n user gradients (4n with errors)."""
    h = steps_for(x, rel, "central", step, typ=typ, name="fd_step")
    H, A, h, gmax = _jac_columns(obj, x, h)
    if not errors:
        return H, np.full_like(H, np.nan), h
    H2, _, _, gmax2 = _jac_columns(obj, x, 2.0 * h)
    rnd = 10.0 * obj.jac_eps * max(gmax, gmax2) / np.minimum.outer(h, h)
    H_err = S_TRUNC * np.abs(H - H2) / 3.0 + 0.5 * np.abs(A - A.T) + rnd
    return H, H_err, h
