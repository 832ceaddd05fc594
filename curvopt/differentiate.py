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
a 4x smaller rounding term; so H costs 4n^2 + 2n + 1 evaluations with bounds (the 2n
are a third step on the axes, below), 2n^2 + 1 without.

Smoothness at the step scale: Richardson assumes D_h = D + c h^2 + noise.  With a third
step on the axes (D at h, 2h, 4h for g_i and H_ii) the h^2 term cancels in
4(D_h - D_2h) - (D_2h - D_4h), which then measures the noise alone; when the amplitude it
implies exceeds K sigma_eff (and |4a - b| > |b|, which excludes smooth f with dominant
h^4 terms) f is not smooth at the step scale (a clamped log, a kink, a jump, a staircase
of float32 roundings of a saturated sigmoid): sigma_eff is raised to that amplitude,
so every rounding term grows, and ``smooth`` is False (``HessianResult.smooth``,
``LocalModel.smooth``).  The two-step Richardson estimate alone missed such errors by
orders of magnitude (a float32 logistic loss with saturated probabilities: lam_min =
-1.6e5 "certified" where the truth is +3e-10).
Entries whose stencil meets a non-finite value are recomputed one-sided (order 1, bound
3 S_T |D_h - D_2h| / 3 + 4x rounding); gradient and hessp raise NonFiniteError instead.

Cheap gradient for the solver (no noise estimate, no second step):
``fd_gradient(obj, x, f0, *, scheme="central"|"forward", step=None, noise=None,
deriv=None) -> GradientResult`` costs exactly 2n (central) or n (forward) evaluations;
``error`` = rounding + truncation, the truncation h^2 M/6 (central) or h M/2 (forward)
from a user-supplied derivative scale M = ``deriv``, NaN when ``deriv`` is None
(``rounding`` always given).  ``local_model(errors=True)`` with function values only
adds a dedicated central gradient with Richardson bound (4n) to the stencil's g.

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

from curvopt._hessian_fd import (EPS64, K_NOISE, S_TRUNC, _check_finite, base_value,
                                 hessian_fd, noise_sigma, step_term)
from curvopt._stencils import representable, step_sizes
from curvopt.objective import NonFiniteError, Objective

__all__ = ["gradient", "hessian", "hessp", "fd_gradient", "GradientResult", "HessianResult",
           "HesspResult", "S_TRUNC", "K_NOISE", "EPS64", "base_value", "noise_sigma"]



@dataclass(frozen=True)
class GradientResult:
    """Gradient estimate ``df`` with elementwise error bound ``error``."""

    df: np.ndarray
    error: np.ndarray
    nfev: int
    f: float
    step: np.ndarray
    noise: float
    rounding: np.ndarray | None = None


@dataclass(frozen=True)
class HessianResult:
    """Hessian estimate ``ddf`` (symmetric) with elementwise error bound ``error``.

    ``df``/``df_error`` is the central gradient read from the stencil's axis points
    (step ~ 2h).  Bounds are NaN ("not estimated") when ``error=False``.  ``smooth`` is
    False when a third step on the axes showed f not smooth at the step scale (the
    bounds then use the noise amplitude implied by the differences, ``noise``).
    """

    ddf: np.ndarray
    error: np.ndarray
    df: np.ndarray
    df_error: np.ndarray
    f: float
    nfev: int
    step: np.ndarray
    noise: float
    smooth: bool = True


@dataclass(frozen=True)
class HesspResult:
    """Hessian-vector product ``ddf`` with a bound ``error`` on the 2-norm of its error."""

    ddf: np.ndarray
    error: float
    nfev: int


def _at_point(fun, x, args, noise, vectorized, parallel):
    """(obj, x, f0, sigma, rel): the objective, validated x, f(x) and the noise of f there."""
    obj = Objective(fun, x, args, vectorized=vectorized, parallel=parallel)
    x = obj.x0
    f0 = base_value(obj, x)
    sigma, rel = noise_sigma(obj, x, f0, noise)
    return obj, x, f0, sigma, rel


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
    obj, x, f0, sigma, rel = _at_point(fun, x, args, noise, vectorized, parallel)
    r = hessian_fd(obj, x, f0, sigma, rel, errors=error, step=step, rel_step=rel_step)
    return HessianResult(ddf=r.H, error=r.H_err, df=r.g,
                         df_error=r.g_err, f=f0, nfev=obj.nfev, step=r.h, noise=r.sigma,
                         smooth=r.smooth)


# -- gradient ------------------------------------------------------------------------
def _one_step(obj, x, f0, h, scheme):
    """(D, h, fp, fm): one central (2n evaluations) or forward (n) difference at steps h."""
    hh, xp, xm = representable(x, h)
    if scheme == "central":
        fp, fm = obj.axis_values(x, xp, xm)
        return (fp - fm) / (2.0 * hh), hh, fp, fm
    fp = obj.f_many(_axis_points(x, xp))
    return (fp - f0) / hh, hh, fp, np.full_like(fp, f0)


def _check_scheme(scheme):
    """(step power, order, rounding coefficient c) of a gradient scheme."""
    if scheme not in ("central", "forward"):
        raise ValueError(f"scheme must be 'central' or 'forward'; got {scheme!r}")
    return (1.0 / 3.0, 2, 1.0) if scheme == "central" else (0.5, 1, 2.0)


def gradient_fd(obj, x, f0, sigma, rel, *, scheme="central", step=None, rel_step=None,
                errors=True):
    """(g, g_err, h) by central (4n evaluations) or forward (2n) differences.

    ``errors=False``: one step only (2n or n evaluations) and g_err = NaN.
    """
    power, order, c = _check_scheme(scheme)
    h = step_sizes(x, power, rel, step, rel_step)
    D, h, fp, fm = _one_step(obj, x, f0, h, scheme)
    _check_finite(x, fp, fm)
    if not errors:
        return D, np.full_like(D, np.nan), h
    D2, _, fp2, fm2 = _one_step(obj, x, f0, 2.0 * h, scheme)
    _check_finite(x, fp2, fm2)
    fmax = max(abs(f0), *(float(np.abs(v).max()) for v in (fp, fm, fp2, fm2)))
    sigma_eff = max(sigma, obj.f_eps * fmax)
    eps_x = float(np.finfo(obj.dtype).eps)
    err = (S_TRUNC * np.abs(D - D2) / (2 ** order - 1) + c * K_NOISE * sigma_eff / h
           + step_term(D, np.abs(x.astype(np.float64)), h, eps_x))
    return D, err, h


def fd_gradient(obj, x, f0, *, scheme="central", step=None, noise=None, deriv=None):
    """Cheap gradient for the solver: exactly 2n (central) or n (forward) evaluations.

    Steps h_i = eps_f^(1/3) max(1, |x_i|) (central) or eps_f^(1/2) max(1, |x_i|)
    (forward), eps_f from the noise estimate stored on ``obj`` (none is made here), or
    ``step`` (absolute).  Bound = rounding + truncation (N&W 2006 eqs. 8.3-8.4, 8.7):

        rounding    c K sigma_eff / h_i + step term     (c = 1 central, 2 forward)
        truncation  h_i^2 M_i / 6  (central, M_i >= |f^(3)| along e_i)  or
                    h_i M_i / 2    (forward, M_i >= |f''_ii|, e.g. |H_ii| + H_err_ii)

    with M = ``deriv`` (scalar or (n,)); without it the truncation is not estimated
    and ``error`` is NaN (``rounding`` is still given).  A central component with one
    non-finite side is taken one-sided (its truncation then NaN); NonFiniteError when
    both sides (or a forward point) are not finite.

    Returns
    -------
    GradientResult
        ``nfev`` = evaluations made here; ``rounding`` = the rounding part of the bound.
    """
    power, order, c = _check_scheme(scheme)
    x = obj._x(x)
    sigma, rel = noise_sigma(obj, x, f0, noise, estimate=False)
    start = obj.nfev
    D, h, fp, fm = _one_step(obj, x, f0, step_sizes(x, power, rel, step), scheme)
    okp, okm = np.isfinite(fp), np.isfinite(fm)
    if not np.all(okp | okm) or (scheme == "forward" and not np.all(okp)):
        raise NonFiniteError(f"f is not finite at a gradient stencil point near x = {x}")
    one = ~(okp & okm)
    D[one] = np.where(okp, fp - f0, f0 - fm)[one] / h[one]
    fmax = max(abs(f0), float(np.abs(fp[okp]).max(initial=0.0)),
               float(np.abs(fm[okm]).max(initial=0.0)))
    sigma_eff = max(sigma, obj.f_eps * fmax)
    eps_x = float(np.finfo(obj.dtype).eps)
    rnd = (np.where(one, 2.0, c) * K_NOISE * sigma_eff / h
           + step_term(D, np.abs(x.astype(np.float64)), h, eps_x))
    M = np.nan if deriv is None else np.abs(np.asarray(deriv, dtype=np.float64))
    trunc = M * (h * h / 6.0 if order == 2 else h / 2.0) * np.ones_like(h)
    trunc[one] = np.nan
    return GradientResult(df=D, error=rnd + trunc, nfev=obj.nfev - start, f=float(f0),
                          step=h, noise=sigma, rounding=rnd)


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
    obj, x, f0, sigma, rel = _at_point(fun, x, args, noise, vectorized, parallel)
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
