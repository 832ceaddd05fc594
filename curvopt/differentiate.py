"""Finite-difference gradient, Hessian and Hessian-vector product with error bounds.

Steps (Nocedal & Wright 2006, sec. 8.1; More & Wild 2012): with the relative noise
eps_f of f (``NoiseEstimate.step_rel``: sigma from ECnoise against the curvature scale
measured on the same line, see :mod:`curvopt.noise`),

    central gradient    h_i = eps_f^(1/3) max(1, |x_i|)
    forward gradient    h_i = eps_f^(1/2) max(1, |x_i|)
    Hessian             h_i = eps_f^(1/4) max(1, |x_i|)

made representable, h_i = (x_i + h_i) - x_i, and overridable (``step`` absolute,
``rel_step`` relative to max(1, |x_i|)).

Error bound, elementwise, for an estimate D_h of order 2 (order 1 for forward):

    E = S_T |D_h - D_2h| / (2^p - 1)          truncation, Richardson with a second step 2h
      + K sigma_eff * c / (h_i h_j)           rounding of f (c/h for a gradient)
      + |D_h| (2 eps_x (|x_i|/h_i + |x_j|/h_j) + 8 eps)   the steps x -+ h and the combine

with S_T = 3 (safety factor on the Richardson estimate, whose ratio D_h - D_2h to the
true error drifts once higher-order terms matter), K = 8 (ECnoise estimates a standard
deviation from a handful of differences, so it can be 2x low; 8 of them then still cover
the worst of O(n^2) stencil values) and sigma_eff =
max(sigma, f_eps max |f| over the stencil), which keeps the bound honest for functions
whose rounding grows with |f(x +- h)|, e.g. a quadratic near its zero minimum.
The rounding coefficient c is the sum of |stencil weights| times h_i h_j: c = 1 for the
off-diagonal and +-2h diagonal formulas, c = 1 for a central gradient, 2 for forward.

For the Hessian (and the gradient read from its axis points) each entry is reported from
the step whose bound is smaller: D_h, or D_2h with truncation 4 S_T |D_h - D_2h| / 3 and
a 4x smaller rounding term; so H costs 4n^2 + 1 evaluations with bounds, 2n^2 + 1 without.
Entries whose stencil meets a non-finite value are recomputed one-sided (order 1, bound
3 S_T |D_h - D_2h| / 3 + 4x rounding); gradient and hessp raise NonFiniteError instead.

Relative error used in the tests and benchmark: max |H - H_true| / max |H_true|.

References
----------
.. [1] J. Nocedal and S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006, ch. 8.
.. [2] J. J. More and S. M. Wild, "Estimating derivatives of noisy simulations",
   ACM Trans. Math. Softw. 38(3), 2012.
.. [3] L. F. Richardson, "The deferred approach to the limit", Phil. Trans. R. Soc. A
   226, 1927 (the extrapolation error estimate |D_h - D_2h| / (2^p - 1)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt._stencils import combine_hessian, one_sided, representable, step_sizes
from curvopt.noise import noise_level
from curvopt.objective import NonFiniteError, Objective

__all__ = ["gradient", "hessian", "hessp", "GradientResult", "HessianResult", "HesspResult"]

S_TRUNC = 3.0     # safety factor on the Richardson truncation estimate
K_NOISE = 8.0     # noise standard deviations covered by the rounding term
EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class GradientResult:
    """Gradient estimate ``df`` with elementwise error bound ``error``."""

    df: np.ndarray
    error: np.ndarray
    nfev: int
    f: float
    step: np.ndarray
    noise: float


@dataclass(frozen=True)
class HessianResult:
    """Hessian estimate ``ddf`` (symmetric) with elementwise error bound ``error``.

    ``df``/``df_error`` is the central gradient read from the stencil's axis points
    (step ~ 2h).  Bounds are NaN ("not estimated") when ``error=False``.
    """

    ddf: np.ndarray
    error: np.ndarray
    df: np.ndarray
    df_error: np.ndarray
    f: float
    nfev: int
    step: np.ndarray
    noise: float


@dataclass(frozen=True)
class HesspResult:
    """Hessian-vector product ``ddf`` with a bound ``error`` on the 2-norm of its error."""

    ddf: np.ndarray
    error: float
    nfev: int


# -- steps and noise -----------------------------------------------------------------
def base_value(obj, x, f0=None):
    """f(x), evaluated unless given; NonFiniteError (a ValueError) naming x if not finite."""
    f0 = obj.f(x) if f0 is None else float(f0)
    if not np.isfinite(f0):
        raise NonFiniteError(f"f(x) = {f0} is not finite at the base point x = {x}")
    return f0


def noise_sigma(obj, x, f0, noise=None, estimate=True):
    """(sigma, eps_f): absolute noise of f and the relative noise that sets the steps.

    ``noise`` given: sigma = noise.  ``estimate``: ECnoise at x.  Otherwise the relative
    levels of an earlier estimate stored on ``obj.noise`` are reused, or f_eps alone.
    """
    floor = obj.f_eps * abs(f0)
    if noise is None and estimate:
        est = noise_level(obj, x, f0=f0)
        return est.sigma, est.step_rel
    prev = obj.noise
    if noise is not None:
        sigma = max(float(noise), floor)
        if prev is not None and np.isfinite(prev.curv):
            return sigma, max(obj.f_eps, sigma / prev.curv)
        return sigma, max(obj.f_eps, sigma / max(abs(f0), 1.0))
    if prev is not None:
        return max(prev.rel * max(abs(f0), 1.0), floor), prev.step_rel
    return floor, obj.f_eps


def step_term(D, x, h, eps_x):
    """Error from the rounded backward points x - h and the combine arithmetic."""
    return np.abs(D) * (2.0 * eps_x * np.abs(x) / h + 8.0 * EPS64)


# -- Hessian stencil -----------------------------------------------------------------
def _check_finite(x, *arrays):
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise NonFiniteError(
                f"f is not finite at a finite-difference stencil point near x = {x}; "
                "use a smaller step or an objective defined in a neighbourhood of x")


def hess_stencil(obj, x, f0, h):
    """One 2n^2-evaluation stencil at target steps h: (H, g, h, h2, fmax, onesided).

    Entries whose central formula meets a non-finite value are recomputed one-sided
    (:func:`curvopt._stencils.one_sided`, a few extra evaluations); ``onesided`` marks
    them (None when there are none).  NonFiniteError when no one-sided formula is finite.
    """
    h, xp, xm = representable(x, h)
    h2, xp2, xm2 = representable(x, 2.0 * h)
    fp2, fm2, F, fmax, nbad = obj.hess_values(x, xp, xm, xp2, xm2, f0)
    H, g = combine_hessian(float(f0), fp2, fm2, F[0], F[1], F[2], F[3], h, h2)
    onesided = None
    if nbad:
        onesided = one_sided(f0, fp2, fm2, F, H, g, x, xp, xm, xp2, xm2, obj.f_many)
        if onesided is None:
            raise NonFiniteError(
                f"f is not finite on both sides of a finite-difference stencil near x = {x}: "
                "no one-sided formula applies; use a smaller step")
    return H, g, h, h2, fmax, onesided


def _bounds(D, D2, rnd, rnd2, stp, onesided=None):
    """Per entry, the estimate (D at h or D2 at 2h) with the smaller bound, and that bound.

    Richardson for an order-2 formula: err(D) ~ |D - D2|/3 and err(D2) ~ 4|D - D2|/3.
    One-sided entries (order 1, |weights| 4x larger) keep D with |D - D2| + 4 rnd.
    """
    t = S_TRUNC * np.abs(D - D2) / 3.0
    b1, b2 = t + rnd + stp, 4.0 * t + rnd2 + stp
    use2 = b2 < b1
    if onesided is not None:
        use2 &= ~onesided
        b1 = np.where(onesided, 3.0 * t + 4.0 * rnd + stp, b1)
    return np.where(use2, D2, D), np.where(use2, b2, b1)


def hess_bounds(obj, x, H, g, H2, g2, h, h2, sigma, onesided=None):
    """Estimates and elementwise bounds (H, H_err, g, g_err) from stencils at h and 2h.

    Each entry is taken from the step whose bound is smaller (the larger step wins when
    rounding dominates); H stays symmetric because both stencils are.
    """
    eps_x = float(np.finfo(obj.dtype).eps)
    xa = np.abs(x.astype(np.float64))
    rnd = K_NOISE * sigma / np.outer(h, h)
    np.fill_diagonal(rnd, 4.0 * K_NOISE * sigma / h2 ** 2)
    stp = np.maximum(np.abs(H), np.abs(H2)) * (
        4.0 * eps_x * (xa[:, None] / h[:, None] + xa[None, :] / h[None, :]) + 8.0 * EPS64)
    H, H_err = _bounds(H, H2, rnd, rnd / 4.0, stp, onesided)
    g_stp = step_term(np.maximum(np.abs(g), np.abs(g2)), xa, h2, 2.0 * eps_x)
    g_mask = None if onesided is None else np.diag(onesided).copy()
    g, g_err = _bounds(g, g2, K_NOISE * sigma / h2, K_NOISE * sigma / (2.0 * h2), g_stp, g_mask)
    return H, H_err, g, g_err


def hessian_fd(obj, x, f0, sigma, rel, *, errors=True, step=None, rel_step=None):
    """Function-values-only Hessian at x: 2n^2 evaluations, 4n^2 with errors.

    Returns (H, g, H_err, g_err, h); the bounds are NaN when ``errors`` is False.
    """
    h = step_sizes(x, 0.25, rel, step, rel_step)
    H, g, h, h2, fmax, mask = hess_stencil(obj, x, f0, h)
    if not errors:
        nan = np.full_like(H, np.nan)
        return H, g, nan, np.full_like(g, np.nan), h
    H2, g2, _, _, fmax2, mask2 = hess_stencil(obj, x, f0, 2.0 * h)
    if mask is not None or mask2 is not None:
        mask = (False if mask is None else mask) | (False if mask2 is None else mask2)
    sigma_eff = max(sigma, obj.f_eps * max(fmax, fmax2))
    H, H_err, g, g_err = hess_bounds(obj, x, H, g, H2, g2, h, h2, sigma_eff, mask)
    return H, g, H_err, g_err, h


def hessian(fun, x, args=(), *, step=None, rel_step=None, noise=None, error=True,
            vectorized=False, parallel=False):
    """Central finite-difference Hessian of f at x with an elementwise error bound.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; a numba ``@njit`` function runs the stencil compiled.
    x : array_like, shape (n,)
    step, rel_step : float or array, optional
        Absolute step, or step relative to max(1, |x_i|).  Default eps_f^(1/4).
    noise : float, optional
        Absolute noise level of f; estimated by ECnoise when None.
    error : bool
        Compute the error bound (a second stencil at step 2h).
    vectorized, parallel : bool
        See :class:`curvopt.objective.Objective`.

    Returns
    -------
    HessianResult
    """
    obj = Objective(fun, x, args, vectorized=vectorized, parallel=parallel)
    x = obj.x0
    f0 = base_value(obj, x)
    sigma, rel = noise_sigma(obj, x, f0, noise)
    H, g, H_err, g_err, h = hessian_fd(obj, x, f0, sigma, rel, errors=error, step=step,
                                       rel_step=rel_step)
    return HessianResult(ddf=H, error=H_err, df=g, df_error=g_err, f=f0, nfev=obj.nfev,
                         step=h, noise=sigma)


# -- gradient ------------------------------------------------------------------------
def gradient_fd(obj, x, f0, sigma, rel, *, scheme="central", step=None, rel_step=None,
                errors=True):
    """(g, g_err, h) by central (4n evaluations) or forward (2n) differences.

    ``errors=False``: one step only (2n or n evaluations) and g_err = NaN.
    """
    if scheme not in ("central", "forward"):
        raise ValueError(f"scheme must be 'central' or 'forward'; got {scheme!r}")
    power, order = (1.0 / 3.0, 2) if scheme == "central" else (0.5, 1)
    h = step_sizes(x, power, rel, step, rel_step)
    D, fmax = [], abs(f0)
    for target in ((h, 2.0 * h) if errors else (h,)):
        hh, xp, xm = representable(x, target)
        if scheme == "central":
            fp, fm = obj.axis_values(x, xp, xm)
            D.append((fp - fm) / (2.0 * hh))
        else:
            fp = obj.f_many(_axis_points(x, xp))
            fm = np.full_like(fp, f0)
            D.append((fp - f0) / hh)
        _check_finite(x, fp, fm)
        fmax = max(fmax, np.abs(fp).max(), np.abs(fm).max())
        if target is h:
            h = hh
    if not errors:
        return D[0], np.full_like(D[0], np.nan), h
    sigma_eff = max(sigma, obj.f_eps * fmax)
    c = 1.0 if scheme == "central" else 2.0
    eps_x = float(np.finfo(obj.dtype).eps)
    err = (S_TRUNC * np.abs(D[0] - D[1]) / (2 ** order - 1) + c * K_NOISE * sigma_eff / h
           + step_term(D[0], np.abs(x.astype(np.float64)), h, eps_x))
    return D[0], err, h


def _axis_points(x, xp):
    X = np.repeat(x[None, :], x.size, axis=0)
    X[np.arange(x.size), np.arange(x.size)] = xp
    return X


def gradient(fun, x, args=(), *, scheme="central", step=None, rel_step=None, noise=None,
             vectorized=False, parallel=False):
    """Finite-difference gradient of f at x with an elementwise error bound.

    Central (default, 4n evaluations plus f(x) and the noise estimate) or forward (2n).
    See :func:`hessian` for the parameters; ``parallel`` is accepted for a uniform
    signature (the 2n evaluations of a gradient run serially).

    Returns
    -------
    GradientResult
    """
    obj = Objective(fun, x, args, vectorized=vectorized, parallel=parallel)
    x = obj.x0
    f0 = base_value(obj, x)
    sigma, rel = noise_sigma(obj, x, f0, noise)
    g, err, h = gradient_fd(obj, x, f0, sigma, rel, scheme=scheme, step=step, rel_step=rel_step)
    return GradientResult(df=g, error=err, nfev=obj.nfev, f=f0, step=h, noise=sigma)


# -- Hessian-vector product ----------------------------------------------------------
def _hv_values(obj, x, v, e, h):
    """Hv from f alone: central difference along v of central partials (4n values)."""
    xvp = (x + (e * v).astype(obj.dtype)).astype(obj.dtype)
    xvm = (x - (e * v).astype(obj.dtype)).astype(obj.dtype)
    parts = []
    for base in (xvp, xvm):
        _, bp, bm = representable(base, h)
        fp, fm = obj.axis_values(base, bp, bm)
        _check_finite(x, fp, fm)
        parts.append((fp - fm) / (bp.astype(np.float64) - bm.astype(np.float64)))
    return (parts[0] - parts[1]) / (2.0 * e)


def _hv_grad(obj, x, v, e):
    """Hv from the user gradient: (g(x + e v) - g(x - e v)) / (2 e)."""
    gp = obj.grad((x + (e * v).astype(obj.dtype)).astype(obj.dtype))
    gm = obj.grad((x - (e * v).astype(obj.dtype)).astype(obj.dtype))
    return (gp - gm) / (2.0 * e), max(np.abs(gp).max(), np.abs(gm).max())


def hessp(fun, x, v, args=(), *, jac=None, step=None, noise=None, vectorized=False):
    """Hessian-vector product H(x) v without forming H, with a 2-norm error bound.

    With ``jac``: central difference of gradients along v (4 gradient calls with the
    Richardson step 2e).  Without: from f alone, the central difference along v of
    central partial derivatives (8n evaluations, plus f(x) and the noise estimate).
    Rounding of a user gradient is taken as 10 f_eps max|g| per component.

    Returns
    -------
    HesspResult
        ``nfev`` counts evaluations of f plus evaluations of ``jac``.
    """
    obj = Objective(fun, x, args, jac=jac, vectorized=vectorized)
    x = obj.x0
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (obj.n,) or not np.all(np.isfinite(v)):
        raise ValueError(f"v must be a finite vector of shape ({obj.n},); got shape {v.shape}")
    vmax = np.abs(v).max()
    if vmax == 0:
        return HesspResult(ddf=np.zeros(obj.n), error=0.0, nfev=0)
    xs = max(1.0, np.abs(x.astype(np.float64)).max())
    eps_x = float(np.finfo(obj.dtype).eps)
    if obj.has_grad:
        e = float(step) if step is not None else obj.f_eps ** (1 / 3) * xs / vmax
        D, gmax = _hv_grad(obj, x, v, e)
        D2, gmax2 = _hv_grad(obj, x, v, 2.0 * e)
        rnd = 10.0 * obj.f_eps * max(gmax, gmax2) / e + np.abs(D) * eps_x * xs / (e * vmax)
        err = S_TRUNC * np.abs(D - D2) / 3.0 + rnd
        return HesspResult(ddf=D, error=float(np.linalg.norm(err)), nfev=obj.nfev + obj.njev)
    f0 = base_value(obj, x)
    sigma, rel = noise_sigma(obj, x, f0, noise)
    h = step_sizes(x, 0.25, rel, step)
    e = float(np.max(h)) / vmax if step is not None else rel ** 0.25 * xs / vmax
    D = _hv_values(obj, x, v, e, h)
    D2 = _hv_values(obj, x, v, 2.0 * e, 2.0 * h)
    xa = np.abs(x.astype(np.float64))
    rnd = (K_NOISE * sigma / (h * e) + step_term(D, xa, h, eps_x)
           + np.abs(D) * eps_x * xs / (e * vmax))
    err = S_TRUNC * np.abs(D - D2) / 3.0 + rnd
    return HesspResult(ddf=D, error=float(np.linalg.norm(err)), nfev=obj.nfev)
