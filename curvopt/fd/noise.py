"""Noise level of f from function values (ECnoise, More & Wild 2011).

Along a line t -> f(x + t delta p) sampled at t = -m/2, ..., m/2 (m = 6, the middle
point is x itself) the k-th forward differences of a smooth f shrink like delta^k, while
those of the noise do not.  For independent noise of standard deviation sigma,

    E[(Delta^k f)^2] = gamma_k^{-1} sigma^2,     gamma_k = (k!)^2 / (2k)!

so sigma_k = sqrt(gamma_k * mean((Delta^k f)^2)) estimates sigma once k is large enough
for the smooth part to vanish.  Following More & Wild [1], sigma_k is accepted at the
first k where three consecutive levels agree within a factor 4 and the k-th differences
change sign.  When f varies too much over the line (relative range > 0.1, "delta too
large") delta is divided by 100 and the estimate repeated; when fewer than half the
values differ ("delta too small": f is locally constant at this resolution) it is
multiplied by 100.

The direction p has entries uniform in [-1, 1] times max(1, |x_i|), from
``np.random.default_rng(seed)`` with ``seed=0`` by default; delta defaults to 1e-4.

The same line gives, for free, a curvature scale for the step rule: the widest central
second difference, kappa = |f(x + 3 delta p) - 2 f(x) + f(x - 3 delta p)| / (9 delta^2 |u|^2),
estimates the average scaled curvature u'Hu/|u|^2 (p = u max(1, |x|)); it is kept only
when the second difference exceeds 20 sigma.  Steps then use eps_f = sigma / kappa
(the relative size of the noise against the change of f over a unit scaled move), which
for f = kappa L^2 phi(x / L) gives the optimal Hessian step (sigma / |f^(4)|)^(1/4).
Without a reliable kappa, eps_f = sigma / max(|f(x)|, 1).

The returned sigma is floored at the working precision of f, ``f_eps * |f(x)|``
(f_eps = 2.2e-16 for float64 arithmetic, 1.2e-7 when x or f(x) is float32), so it is
never zero for a function that is not exactly zero.

References
----------
.. [1] J. J. More and S. M. Wild, "Estimating computational noise", SIAM J. Sci.
   Comput. 33(3):1292-1314, 2011.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import factorial, isfinite

import numpy as np
from numba import njit

from curvopt.objective import NonFiniteError

__all__ = ["NoiseEstimate", "estimate_noise", "ecnoise", "assumed_noise"]


@dataclass(frozen=True)
class NoiseEstimate:
    """Absolute and relative noise level of f at x.

    Attributes
    ----------
    sigma : float
        Absolute noise level (standard deviation), floored at ``f_eps * |f(x)|``.
    rel : float
        ``sigma / max(|f(x)|, 1)``: relative noise level of f.
    curv : float
        Scaled curvature kappa along the sampling line, NaN when not measured reliably.
    step_rel : float
        eps_f = max(f_eps, sigma / kappa) (or sigma / max(|f|, 1) without kappa): the
        relative noise that sets the finite-difference steps.
    nfev : int
        Evaluations spent (excluding f(x) when it was given).
    f : float
        f(x).
    delta : float
        Sampling distance of the last attempt.
    status : str
        ``"ok"``, ``"delta too small"`` (no noise detected: the floor is used) or
        ``"delta too large"`` (no level accepted: the floor or the last level).
    """

    sigma: float
    rel: float
    curv: float
    step_rel: float
    nfev: int
    f: float
    delta: float
    status: str


_STATUS = ("ok", "delta too small", "delta too large", "delta too large")


def ecnoise(fvals):
    """More & Wild's noise level from m + 1 equally spaced values along a line.

    Returns
    -------
    sigma : float
        Accepted level (NaN when none is accepted).
    status : str
        ``"ok"``, ``"delta too small"`` or ``"delta too large"``.
    """
    fvals = np.ascontiguousarray(fvals, dtype=np.float64)
    sigma, code = _ecnoise_kernel(fvals, _gamma(fvals.size - 1))
    return float(sigma), _STATUS[code]


@njit(cache=True)
def _ecnoise_kernel(fvals, gamma):  # pragma: no cover - jit
    """(sigma, code): code 0 = ok, 1 = delta too small, 2 = delta too large, 3 = a value
    is not finite (reported as "delta too large")."""
    m = fvals.shape[0] - 1
    for v in fvals:
        if not np.isfinite(v):
            return np.nan, 3
    fmin, fmax = fvals.min(), fvals.max()
    if (fmax - fmin) > 0.1 * max(abs(fmin), abs(fmax)):
        return np.nan, 2
    if np.unique(fvals).shape[0] <= m // 2:
        return np.nan, 1
    T = fvals.copy()
    levels = np.empty(m)
    signs = np.zeros(m, dtype=np.bool_)
    for k in range(m):
        T = T[1:] - T[:-1]
        levels[k] = np.sqrt(gamma[k] * np.mean(T * T))
        signs[k] = T.max() > 0.0 and T.min() < 0.0
    for k in range(m - 2):
        lo = min(levels[k], levels[k + 1], levels[k + 2])
        hi = max(levels[k], levels[k + 1], levels[k + 2])
        if hi <= 4.0 * lo and signs[k]:
            return levels[k], 0
    return np.nan, 2


_GAMMA, _T = {}, {}


def _gamma(m):
    """gamma_k = (k!)^2 / (2k)!, k = 1..m (cached)."""
    if m not in _GAMMA:
        _GAMMA[m] = np.array([factorial(k) ** 2 / factorial(2 * k) for k in range(1, m + 1)])
    return _GAMMA[m]


def _line_values(obj, x, u, delta, m, with_x=False):
    """f at x + t delta p, t = -m/2..m/2 except 0, p = u max(1, |x|): m new evaluations
    (``with_x``: f(x) first, in the same batch, m + 1)."""
    if m not in _T:
        _T[m] = np.array([k - m // 2 for k in range(m + 1) if k != m // 2], dtype=np.float64)
    return obj.values(_line_points(x, u, _T[m], delta, with_x))


@njit(cache=True)
def _line_points(x, u, t, delta, with_x):  # pragma: no cover - jit
    """Rows x + (t_k delta) p, p_i = u_i max(1, |x_i|), in x's dtype (float64 sum, rounded),
    after x itself when ``with_x``."""
    first = 1 if with_x else 0
    X = np.empty((t.shape[0] + first, x.shape[0]), dtype=x.dtype)
    for i in range(x.shape[0]):
        p = u[i] * max(1.0, abs(np.float64(x[i])))
        if with_x:
            X[0, i] = x[i]
        for k in range(t.shape[0]):
            X[first + k, i] = x[i] + (t[k] * delta) * p
    return X


@njit(cache=True)
def _line_noise(vals, f0, gamma):  # pragma: no cover - jit
    """(fvals, sigma, code): the m + 1 line values (vals with f0 inserted in the middle)
    and :func:`_ecnoise_kernel` of them, in one compiled call."""
    m = vals.shape[0]
    out = np.empty(m + 1)
    out[:m // 2], out[m // 2], out[m // 2 + 1:] = vals[:m // 2], f0, vals[m // 2:]
    sigma, code = _ecnoise_kernel(out, gamma)
    return out, sigma, code


_DIRECTIONS = {}


def _direction(n, seed):
    """(u, u'u): u ~ uniform[-1, 1]^n from default_rng(seed), cached per (n, seed): the
    direction is fixed by its arguments, and a new Generator per call would cost more
    than a cheap f."""
    hit = _DIRECTIONS.get((n, seed))
    if hit is None:
        u = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
        hit = (u, float(u @ u))
        if len(_DIRECTIONS) < 64:
            _DIRECTIONS[(n, seed)] = hit
    return hit


def _curvature(vals, uu, delta, sigma, finite):
    """Scaled curvature u'Hu/|u|^2 from the widest central second difference (or NaN);
    uu = u'u."""
    if not finite:
        return np.nan
    mid = vals.size // 2
    d2 = vals[0] - 2.0 * vals[mid] + vals[-1]
    if not abs(d2) > 20.0 * sigma:
        return np.nan
    return float(abs(d2) / ((mid * delta) ** 2 * uu))


def estimate_noise(obj, x, f0=None, *, m=6, delta=1e-4, seed=0, max_tries=3):
    """Estimate the noise of f at x (ECnoise, More & Wild 2011): a :class:`NoiseEstimate`.

    Parameters
    ----------
    obj : curvopt.objective.Objective
        Its counters advance; nothing is stored on it.
    x : ndarray
        The point (the objective's dtype).
    f0 : float, optional
        f(x), finite (not re-evaluated). None: evaluated first, in the batch of the first
        attempt's line (NonFiniteError, a ValueError, if not finite).
    m : int
        Number of differences (m + 1 points, m new evaluations per attempt).
    delta : float
        Initial relative sampling distance.
    seed : int
        Seed of the random direction (``np.random.default_rng(seed)``).
    max_tries : int
        Attempts with delta rescaled by 100.
    """
    start = obj.nfev
    u, uu = _direction(obj.n, seed)
    first = None
    if f0 is None:
        first = _line_values(obj, x, u, delta, m, with_x=True)
        f0 = float(first[0])
    if not isfinite(f0):
        raise NonFiniteError(f"f(x) = {f0} is not finite at the base point x = {x}")
    sigma, code, gamma = np.nan, -1, _gamma(m)
    for attempt in range(max_tries):
        if attempt:
            delta = delta / 100.0 if code >= 2 else delta * 100.0
        line = first[1:] if attempt == 0 and first is not None else _line_values(obj, x, u,
                                                                               delta, m)
        vals_k, sigma_k, code_k = _line_noise(line, f0, gamma)
        if code_k == 3 and code == 1:     # constant at every scale tried, then undefined:
            break                         # the noise is below detection
        vals, sigma, code = vals_k, sigma_k, code_k
        if code == 0:
            break
    floor = obj.f_eps * abs(f0)
    sigma = floor if not isfinite(sigma) else max(sigma, floor)
    curv = _curvature(vals, uu, delta, sigma, code != 3)
    scale = curv if isfinite(curv) else max(abs(f0), 1.0)
    return NoiseEstimate(sigma=float(sigma), rel=float(sigma / max(abs(f0), 1.0)),
                         curv=float(curv), step_rel=float(max(obj.f_eps, sigma / scale)),
                         nfev=obj.nfev - start, f=float(f0), delta=float(delta),
                         status=_STATUS[code])


def assumed_noise(obj, f0, sigma=None):
    """A :class:`NoiseEstimate` without evaluations: the user's ``sigma`` (absolute noise
    of f), or the rounding level f_eps |f0|; steps then use eps_f = max(f_eps,
    sigma / max(|f0|, 1))."""
    floor = obj.f_eps * abs(f0)
    sigma = floor if sigma is None else max(float(sigma), floor)
    rel = sigma / max(abs(f0), 1.0)
    return NoiseEstimate(sigma=float(sigma), rel=float(rel), curv=float("nan"),
                         step_rel=float(max(obj.f_eps, rel)), nfev=0, f=float(f0),
                         delta=float("nan"), status="assumed" if sigma > floor else "rounding")
