"""Local quadratic model of f at a point, with error bounds.

    m(p) = f + g'p + p'Hp / 2

where g and H approximate grad f(x) and hess f(x). Each carries an elementwise bound
(`g_err`, `H_err`) on its error, so that the layers above (spectrum, certificate, step)
can tell a real property of f from a property of the numerical error.

:func:`local_model` builds the record from the best information the objective has:

* ``hess`` callable: H = (hess(x) + hess(x)')/2, ``exact_hessian=True``,
  H_err = gamma_n max|H| + |hess(x) - hess(x)'|/2 (rounding level in the precision of
  the Hessian's dtype, gamma_n = n u / (1 - n u); for a float32 Hessian also its measured
  error, see :func:`_user_hessian`), or the user's ``hess_err``;
* ``hessp`` callable: H column by column from hessp(x, e_i), same bounds;
* ``jac`` only: H by central differences of the gradient (2n gradients; 4n with errors);
* nothing: the 2n^2 + 1 function-values stencil of :mod:`curvopt.differentiate`, with g
  read from the stencil's axis points (step ~2h, no extra evaluations); with ``errors``
  (4n^2 + 2n + 1 values: stencils at h and 2h and the smoothness check of
  :func:`curvopt._hessian_fd.jump_sigma`) also a dedicated central gradient at
  h ~ eps_f^(1/3) (4n more), keeping per component the estimate with the smaller bound;
  ``smooth`` is False when f is not smooth at the step scale (bounds widened).

A user gradient gets the bound g_err = 10 u (|g| + |H| max(1, |x|)), its assumed
rounding level (u of the gradient's dtype), or the user's ``jac_err``; with a user Hessian but no gradient, g comes from central differences
(2n evaluations; 4n and a bound with errors).  User-derivative bounds are free and
are filled in either way.  With ``errors=False`` (the solver's cheap path) no second step is
taken and no noise is estimated: g_err and H_err are NaN ("not estimated"), and the steps
use the relative noise stored on the objective by an earlier estimate (or f_eps).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from curvopt._stencils import representable, step_sizes
from curvopt._hessian_fd import FDHessian, hess_bounds, hess_stencil, jump_sigma
from curvopt.differentiate import (EPS64, K_NOISE, S_TRUNC, base_value, gradient_fd,
                                   hessian_fd, noise_sigma)
from curvopt.noise import ecnoise


@dataclass(frozen=True)
class Stencil:
    """The raw 2n^2 + 1 function-values Hessian stencil of a cheap model at x
    (:func:`curvopt._hessian_fd.hess_stencil`): H and g at steps h (axis points at h2 ~
    2h), max |f| over its values and the mask of one-sided entries (or None)."""

    H: np.ndarray
    g: np.ndarray
    h: np.ndarray
    h2: np.ndarray
    fmax: float
    onesided: np.ndarray | None


@dataclass(frozen=True)
class LocalModel:
    """f, g, H at x with elementwise error bounds.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The point.
    f : float
        f(x).
    g : ndarray, shape (n,)
        Gradient estimate.
    H : ndarray, shape (n, n)
        Symmetric Hessian estimate.
    g_err : ndarray, shape (n,)
        Elementwise bound on ``|g - grad f(x)|``.
    H_err : ndarray, shape (n, n)
        Elementwise bound on ``|H - hess f(x)|`` (symmetric).
    f_noise : float
        Absolute noise level of f near x (standard deviation), e.g. from ECnoise.
    exact_hessian : bool
        True when H came from a user-supplied callable.
    nfev : int
        Function evaluations spent building this model.
    step : ndarray or None
        Finite-difference steps h used for H (None when H came from the user).
    smooth : bool
        False when the function-values stencil found f not smooth at the step scale
        (differences at h, 2h, 4h inconsistent with a smooth f plus noise ``f_noise``;
        the bounds were then widened, see :func:`curvopt._hessian_fd.jump_sigma`).
    stencil : Stencil or None
        The raw stencil of a cheap function-values model (``errors=False``), which
        ``local_model(errors=True, reuse=model)`` at the same x builds on.
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
    stencil: Stencil | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def predicted_reduction(self, p: np.ndarray) -> float:
        """-(g'p + p'Hp/2): the decrease of f the model predicts for step p."""
        return -(float(self.g @ p) + 0.5 * float(p @ (self.H @ p)))


def local_model(obj, x, *, f0=None, errors=True, step=None, hess_err=None, jac_err=None,
                grad_pair=None, reuse=None):
    """Build the :class:`LocalModel` of ``obj`` at x.

    Parameters
    ----------
    obj : curvopt.objective.Objective
    x : array_like, shape (n,)
    f0 : float, optional
        f(x) when already known (not re-evaluated).
    errors : bool
        Estimate the noise of f (ECnoise) and the error bounds (second step 2h).
        False: cheap path, at most 2n^2 + 1 evaluations, NaN bounds.
    step : float or array, optional
        Absolute finite-difference step (default from the noise level, see
        :mod:`curvopt.differentiate`).
    hess_err, jac_err : float or array, optional
        Known elementwise bounds on the error of the user's ``hess`` (or ``hessp``) and
        ``jac``, used instead of the rounding-level estimates.
    grad_pair : AxisDifferences, optional
        Two central differences of f (e.g. the solver's, near x): the dedicated central
        gradient (function values only, ``errors=True``) then takes the steps of
        :func:`gradient_steps` from the third derivatives they imply, judged with the
        noise measured here. Its Richardson bound holds for any step.
    reuse : LocalModel, optional
        A cheap model (``errors=False``, function values only) at the same x and f, with
        steps at least half of those this call would take: with ``errors`` its stencil
        (2n^2 values) is reused, only the stencil at 2h, the
        smoothness axis points and the gradient are added (2n^2 evaluations saved; the
        bounds are those of a full build at the cheap model's steps). Ignored otherwise.

    Returns
    -------
    LocalModel
    """
    start = obj.nfev
    x = obj._x(x)
    f0 = base_value(obj, x, f0)
    sigma, rel = noise_sigma(obj, x, f0, estimate=errors and not _all_user(obj))
    h, smooth, first = None, True, None
    if obj.has_hess or obj.has_hessp:
        H, H_err = _user_hessian(obj, x, hess_err, probe=errors)
        g, g_err = _gradient(obj, x, f0, sigma, rel, H, errors, jac_err)
    elif obj.has_grad:
        H, H_err, h = _jac_hessian(obj, x, rel, errors, step)
        g, g_err = _gradient(obj, x, f0, sigma, rel, H, errors, jac_err)
    else:
        if not errors:
            first = _stencil(obj, x, f0, rel, step)
            r = FDHessian(first.H, first.g, first.H + np.nan, first.g + np.nan, first.h,
                          float(sigma))
        elif _reusable(reuse, x, f0, step_sizes(x, 0.25, rel, step)):
            r = _fd_bounds(obj, x, f0, sigma, reuse.stencil)
        else:
            r = hessian_fd(obj, x, f0, sigma, rel, errors=True, step=step)
        H, g, H_err, g_err, h, smooth = r.H, r.g, r.H_err, r.g_err, r.h, r.smooth
        if errors:    # the stencil's floor f_eps max|f| (its widest points) is not the
            s_g = sigma if smooth else r.sigma      # gradient's: gradient_fd adds its own
            hg = None if grad_pair is None else gradient_steps(x, grad_pair, s_g, rel)
            g, g_err = _sharpen(obj, x, f0, s_g, rel, g, g_err, hg)
        sigma = r.sigma
    return LocalModel(x=x.astype(np.float64), f=f0, g=g, H=H, g_err=g_err, H_err=H_err,
                      f_noise=sigma, exact_hessian=h is None, nfev=obj.nfev - start, step=h,
                      smooth=smooth, stencil=first)


def _stencil(obj, x, f0, rel, step):
    """The cheap 2n^2-evaluation stencil at the default steps rel^(1/4) max(1, |x_i|)
    (one compiled call for a jit objective) or at ``step``, as a :class:`Stencil`."""
    c = float(rel) ** 0.25
    if step is None and 0.0 < c < np.inf:
        return Stencil(*hess_stencil(obj, x, f0, None, c))
    return Stencil(*hess_stencil(obj, x, f0, step_sizes(x, 0.25, rel, step)))


def _reusable(model, x, f0, h_full):
    """True if ``model`` is a cheap function-values model at x with f(x) = f0 whose
    steps are at least half those of a full build ``h_full`` (a noise level measured
    now above the one its steps assumed asks for the larger steps of a new stencil)."""
    return (model is not None and model.stencil is not None and model.f == f0
            and np.array_equal(model.x, x.astype(np.float64))
            and bool(np.all(model.stencil.h >= 0.5 * h_full)))


def _fd_bounds(obj, x, f0, sigma, st):
    """The errors path of :func:`curvopt._hessian_fd.hessian_fd` on a given first stencil:
    the stencil at 2h, the smoothness check and the bounds (2n^2 + 2n evaluations)."""
    H2, g2, _, _, fmax2, mask2 = hess_stencil(obj, x, f0, 2.0 * st.h)
    mask = st.onesided
    if mask is not None or mask2 is not None:
        mask = (False if mask is None else mask) | (False if mask2 is None else mask2)
    skip = None if mask is None else np.diag(mask).copy()
    s_jump, fmax3 = jump_sigma(obj, x, f0, st.h, st.g, np.diag(st.H).copy(), g2,
                               np.diag(H2).copy(), skip)
    sigma_eff = max(sigma, obj.f_eps * max(st.fmax, fmax2, fmax3))
    smooth = not s_jump > K_NOISE * sigma_eff
    sigma_eff = max(sigma_eff, s_jump) if not smooth else sigma_eff
    H, H_err, g, g_err = hess_bounds(obj, x, st.H, st.g, H2, g2, st.h, st.h2, sigma_eff, mask)
    return FDHessian(H, g, H_err, g_err, st.h, float(sigma_eff), smooth)


@dataclass(frozen=True)
class AxisDifferences:
    """Two central differences of f along the axes at one point: D_a at steps h_a and
    D_b at steps h_b (e.g. the Hessian stencil's g at 2h and the solver's gradient)."""

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
        excess = np.maximum(diff - K_NOISE * max(float(sigma), 0.0) * (1 / ha + 1 / hb), 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t = np.where(den > 0, 6.0 * excess / den, 0.0)
        return np.where(np.isfinite(t), t, 0.0)


def gradient_steps(x, pair, sigma, rel, tol=0.0):
    """Per-coordinate central-gradient steps from f itself (Gill, Murray, Saunders &
    Wright 1983, SIAM J. Sci. Stat. Comput. 4(2)).

    The step minimizing the error h^2 |t_i| / 6 + sigma / h of a central difference is
    h_i = (3 sigma / |t_i|)^(1/3), t_i from ``pair.third(sigma)`` (an
    :class:`AxisDifferences`, None: the default rule); clipped to [1e-2, 1] times the
    default eps_f^(1/3) max(1, |x_i|) (the default where t_i = 0) and kept above
    1e3 eps |x_i|, so it only refines the default rule. On Meyer (MGH 10, x2 ~ 6e3,
    x3 ~ 345) the default steps 0.04 and 2e-3 have truncation errors ~100x the
    tolerance of the gradient at the minimum; the rule gives ~1e-4 and ~1e-5.
    ``tol``: an accuracy that is good enough; no step is made smaller than the one
    whose truncation |t_i| h^2 / 6 is ``tol`` (the default is kept where its own
    truncation is below ``tol``).
    """
    xa = np.abs(np.asarray(x, dtype=np.float64))
    h0 = float(rel) ** (1.0 / 3.0) * np.maximum(1.0, xa)
    if pair is None:
        return h0
    t = pair.third(sigma) * np.ones_like(h0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(t > 0, np.maximum(np.cbrt(3.0 * max(float(sigma), 0.0) / t),
                                       np.sqrt(6.0 * float(tol) / t)), h0)
    lo = np.maximum(1e-2 * h0, 1e3 * EPS64 * xa)
    return np.clip(np.where(np.isfinite(h) & (h > 0), h, h0), lo, h0)


def _all_user(obj):
    return obj.has_grad and (obj.has_hess or obj.has_hessp)


def _user_hessian(obj, x, hess_err=None, probe=True):
    """(H, H_err) from a user hess or hessp callable: symmetrized, rounding-level bound.

    H_err = |A - A'|/2 + (``hess_err`` when given, else max(gamma_n max|H|, probe)) with
    u the unit roundoff of the Hessian's dtype (or x's, or f's, whichever is coarsest)
    and gamma_n = n u / (1 - n u), the rounding bound of a length-n inner product
    (Higham 2002, Lemma 3.1), with max|H| standing in for the unknown sum of |terms|.
    Cancellation inside the user's formula (e.g. the chain rule through saturated float32
    probabilities, errors ~1e4 u max|H|) is not bounded by any multiple of |H|, so for
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
    its input's dtype), 2 |A - hess(x64)| (one call).  Otherwise the noise of each entry
    along a line, ECnoise (More & Wild 2011) on hess(x + t delta p), t = -3..3 (6 calls),
    K max sigma_ij.
    """
    x64 = x.astype(np.float64)
    out = np.asarray(obj._hess(x64, *obj.args))
    obj.nhev += 1
    if out.dtype == np.float64 and out.size == A.size:
        return 2.0 * np.abs(A - out.reshape(A.shape))
    p = np.random.default_rng(0).uniform(-1.0, 1.0, obj.n) * np.maximum(1.0, np.abs(x64))
    T = [A if k == 0 else obj.hess((x64 + 1e-4 * k * p).astype(obj.dtype)) for k in range(-3, 4)]
    T = np.array(T).reshape(7, -1)
    sig = [ecnoise(T[:, j])[0] for j in range(T.shape[1])]
    return np.full(A.shape, K_NOISE * float(np.nanmax(np.concatenate([[0.0], sig]))))


def _gradient(obj, x, f0, sigma, rel, H, errors, jac_err=None):
    """User gradient with its rounding bound (``jac_err`` when given), or central
    differences.  The rounding bound 10 u (|g| + |H| max(1, |x|)) uses the unit roundoff
    u of the gradient's dtype (or x's, or f's, whichever is coarsest)."""
    if obj.has_grad:
        g = obj.grad(x)
        if jac_err is not None:
            return g, _nonneg(jac_err, g.shape, "jac_err")
        scale = np.abs(H) @ np.maximum(1.0, np.abs(x.astype(np.float64)))
        return g, 10.0 * obj.jac_eps * (np.abs(g) + scale)
    g, g_err, _ = gradient_fd(obj, x, f0, sigma, rel, errors=errors)
    return g, g_err


def _sharpen(obj, x, f0, sigma, rel, g, g_err, step=None):
    """Per component, the better of the stencil's g (axis points at 2h and 4h, h ~
    eps_f^(1/4)) and a dedicated central gradient at h ~ eps_f^(1/3) with its Richardson
    bound (4n evaluations), whose truncation error is ~eps_f^(-1/6) times smaller.  Both
    bounds hold for the same true gradient, so the smaller one is kept."""
    g2, err2, _ = gradient_fd(obj, x, f0, sigma, rel, errors=True, step=step)
    take = err2 < g_err
    return np.where(take, g2, g), np.where(take, err2, g_err)


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


def _jac_hessian(obj, x, rel, errors, step):
    """(H, H_err, h) from 2n user gradients (4n with errors)."""
    h = step_sizes(x, 1.0 / 3.0, rel, step)
    H, A, h, gmax = _jac_columns(obj, x, h)
    if not errors:
        return H, np.full_like(H, np.nan), h
    H2, _, _, gmax2 = _jac_columns(obj, x, 2.0 * h)
    rnd = 10.0 * obj.f_eps * max(gmax, gmax2) / np.minimum.outer(h, h)
    H_err = S_TRUNC * np.abs(H - H2) / 3.0 + 0.5 * np.abs(A - A.T) + rnd
    return H, H_err, h
