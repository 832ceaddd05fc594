"""Probes of f along directions the quadratic model cannot decide.

A local model says nothing about f beyond the scale it was measured on. Two situations
need values of f further out:

* **flat or weak directions** at a stationary point (eigenvalues indistinguishable from
  0, or certified positive but with the minimizer possibly beyond the stencil): is the
  point a minimum along v, is f flat there (a valley of minima, a non-identifiable
  parameter), or does f decrease further out (a higher-order saddle, a plateau that ends)?
* **a run that keeps moving one way**: does f have a minimizer along that ray, or does
  it decrease without bound or towards an asymptote (a minimum at infinity: separation in
  a logistic regression, an all-zero group in a Poisson regression, an unbounded f)?

A probe evaluates f at x + t d for distances t in a fixed geometric grid (ratio 2 from
``t_min`` up to the scale s = max(1, ||x||_inf), then ratio 10 up to ``FAR`` s), both signs
where asked, in one batch. Along a flat direction v the straight line can miss a
curved valley (Peano's surface (y - x^2)(y - 2x^2) rises along every line through the
origin), so the near grid is also probed along the parabola x + t v + t^2 w with
w = -H^+ T[v, v] / 2, the second-order correction that minimizes the t^4 term of
f(x + t v + t^2 w) (T[v, v] = d^2 grad f(x + t v) / dt^2, from gradients at x +- s v).

Outcomes, with tau the resolution of f (a decrease below tau cannot be seen):

* ``"unbounded"``: along some ray f never rises by more than tau from one probe to the
  next, decreases overall by more than tau, and is lowest at the farthest finite probe:
  no finite minimizer was found up to that distance, whether or not f flattens below its
  rounding level on the way (exp(-t) does); the overall drop must clear the resolution
  of f measured at the farthest probe too;
* ``"descent"``: some probe lies more than tau below f(x), and the drop also clears the
  resolution of f measured at that probe point (far out, rounding can be far larger than
  at x): continue from the nearest such point;
* ``"curved"``: f rises beyond tau on both sides and the second differences at the first
  such distances t and 4t agree within a factor 2 (a quadratic rise: the curvature along v
  is resolved and positive; a quartic gives a factor 16, a kink 1/4);
* ``"flat"``: every probe within tau of f(x) (f constant as far as probed);
* ``"rises"``: otherwise (f rises somewhere, faster than quadratically near x: t^4, a
  degenerate minimum along v);
* ``"unknown"`` (:func:`probe_direction`): no lower value, but f is not finite at any
  probe on one side (x at the edge of f's domain, sqrt(x) at 0+): nothing is known there.

A non-finite value of f is "unknown", never "f rises": it is left out, and a ray ends at
its first non-finite probe.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.certificate import RESOLUTION_K
from curvopt.fd.noise import estimate_noise

__all__ = ["ProbeResult", "distances", "probe_ray", "probe_direction", "parabola",
           "FAR", "RATIO_NEAR", "RATIO_FAR"]

FAR = 1e8          # farthest probe, in units of the scale max(1, ||x||_inf)
RATIO_NEAR, RATIO_FAR = 4.0, 10.0
VERIFY = 1         # descent candidates whose noise is measured (the nearest)


@dataclass(frozen=True)
class ProbeResult:
    """What probes of f along a direction showed.

    Attributes
    ----------
    outcome : str
        ``"unbounded"``, ``"descent"``, ``"curved"``, ``"flat"``, ``"rises"`` or
        ``"unknown"`` (module docstring).
    direction : ndarray
        The unit direction d (float64).
    x_best, f_best : ndarray, float
        The lowest probe point and its value (x and f(x) when no probe is lower).
    t_best : float
        Its signed distance along d (0 when no probe is lower).
    t_far : float
        The farthest finite probe distance (for "unbounded": how far f was seen falling).
    f_far : float
        f there.
    nfev : int
        Evaluations spent.
    """

    outcome: str
    direction: np.ndarray
    x_best: np.ndarray
    f_best: float
    t_best: float
    t_far: float
    f_far: float
    nfev: int


def distances(t_min, s, far=FAR):
    """Geometric grid: ratio 4 from t_min to s, then ratio 10 up to ``far`` s. With ratio
    4, a quadratic dip of f along the ray (depth D at distance d) is seen at depth
    >= 0.3 D by the last two probes below 2d."""
    t_min = float(min(t_min, s))
    k = int(np.ceil(np.log(s / t_min) / np.log(RATIO_NEAR)))
    near = t_min * RATIO_NEAR ** np.arange(k + 1)
    far_ = s * RATIO_FAR ** np.arange(1, int(np.log10(far)) + 1)
    return np.concatenate([near[near <= s], far_])


def _points(x, d, t, w=None):
    """Rows x + t_k d (+ t_k^2 w), rounded to x's dtype, and the exact offsets."""
    x64 = x.astype(np.float64)
    P = x64[None, :] + t[:, None] * d[None, :]
    if w is not None:
        P = P + (t * t)[:, None] * w[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        X = P.astype(x.dtype)
    ok = np.all(np.isfinite(X), axis=1)
    return X, ok


def _values(obj, x, d, t, w=None):
    """f at x + t d (+ t^2 w) for the finite points (NaN elsewhere)."""
    X, ok = _points(x, d, t, w)
    vals = np.full(t.shape[0], np.nan)
    if ok.any():
        with np.errstate(all="ignore"):
            vals[ok] = obj.values(X[ok])
    vals[~np.isfinite(vals)] = np.nan
    return vals, X


def _monotone_to_end(vals, f0, tau):
    """True if, up to the first non-finite value (where the ray ends), f never rises by
    more than tau from one probe to the next, drops by more than tau overall and is
    lowest (within tau) at the last probe."""
    bad = np.flatnonzero(~np.isfinite(vals))
    seq = np.concatenate([[f0], vals[:bad[0]] if bad.size else vals])
    return bool(seq.size >= 3 and np.all(np.diff(seq) <= tau) and seq[-1] < f0 - tau
                and seq[-1] <= seq.min() + tau)


def probe_ray(obj, x, f0, d, tau, t_min, far=FAR):
    """Probe f along the ray x + t d, t > 0 (see the module docstring); a ProbeResult
    with outcome ``"unbounded"``, ``"descent"``, ``"flat"`` or ``"rises"``."""
    start = obj.nfev
    d = np.asarray(d, dtype=np.float64) / np.linalg.norm(d)
    s = max(1.0, float(np.abs(x.astype(np.float64)).max()))
    t = distances(t_min, s, far)
    vals, X = _values(obj, x, d, t)
    return _result(obj, x, f0, d, tau, [(t, vals, X)], start, monotone=[vals])


def parabola(H_pinv, T_vv):
    """w = -H^+ T[v, v] / 2: the second-order correction of the curved probe."""
    return -0.5 * (H_pinv @ T_vv)


def probe_direction(obj, x, f0, v, tau, t_min, curve=None, far=FAR):
    """Probe f along +-v, in stages that stop at the first descent: the near grid (ratio 4
    up to the scale s), then -- unless f rises quadratically on both sides there -- the
    parabolas x +- t v + t^2 w on the near grid (``curve()`` returns w, or None), then the
    far grid. A ProbeResult: "unbounded" or "descent" from any stage, else "curved" (a
    quadratic rise near x and nothing lower far out), "flat" or "rises"."""
    start = obj.nfev
    v = np.asarray(v, dtype=np.float64) / np.linalg.norm(v)
    s = max(1.0, float(np.abs(x.astype(np.float64)).max()))
    t = distances(t_min, s, far)
    near = t <= s
    runs = [(sign * t[near], *_values(obj, x, sign * v, t[near])) for sign in (1.0, -1.0)]
    res = _result(obj, x, f0, v, tau, runs, start, monotone=[])
    if res.outcome == "descent":
        return res
    quadratic = _quadratic_rise(t[near], [runs[0][1], runs[1][1]], f0, tau)
    w = curve() if curve is not None and not quadratic else None
    if w is not None and np.all(np.isfinite(w)) and np.linalg.norm(w) * s > 1e-8:
        bent = [(sign * t[near], *_values(obj, x, sign * v, t[near], w)) for sign in (1.0, -1.0)]
        res = _result(obj, x, f0, v, tau, bent, start, monotone=[])
        if res.outcome == "descent":
            return res
    full = []
    for k, sign in enumerate((1.0, -1.0)):
        vals, X = _values(obj, x, sign * v, t[~near])
        full.append((sign * t, np.concatenate([runs[k][1], vals]),
                     np.concatenate([runs[k][2], X])))
    tr = _return_distances(x, v, s)
    if tr.size:
        full.append((tr, *_values(obj, x, v, tr)))
    res = _result(obj, x, f0, v, tau, full, start, monotone=[full[0][1], full[1][1]])
    if res.outcome in ("flat", "rises") and not all(np.isfinite(vals).any()
                                                    for _, vals, _ in full[:2]):
        return ProbeResult("unknown", *_fields(res))
    if res.outcome in ("flat", "rises") and quadratic:
        return ProbeResult("curved", *_fields(res))
    return res


def _return_distances(x, v, s):
    """Signed distances t where the projection of x + t v on v is within a few units of
    0: where a parameter far from its typical size (1) returns to it -- where a plateau of
    a saturated sigmoid or exponential ends. Empty when x'v is already of order 1."""
    c = float(np.asarray(x, dtype=np.float64) @ v)
    if abs(c) <= 4.0:
        return np.empty(0)
    return -c + np.array([0.0, -0.25, 0.25, -1.0, 1.0, -4.0, 4.0])


def _fields(res):
    return (res.direction, res.x_best, res.f_best, res.t_best, res.t_far, res.f_far,
            res.nfev)


def _noise(obj, y, fy):
    """Noise of f at a probe point (ECnoise; far out, rounding can dwarf the noise at x);
    inf when ECnoise cannot settle on a level (f varies too much at every sampling
    distance tried): an unverifiable drop is no evidence."""
    est = estimate_noise(obj, obj.point(y), fy, max_tries=4)
    return est.sigma if est.status != "delta too large" else np.inf


def _verified(obj, y, fy, f0, tau):
    """A probe value below f0 counts only if the drop clears tau plus the resolution of f
    measured at the probe point."""
    return f0 - fy > tau + RESOLUTION_K * _noise(obj, y, fy)


def _result(obj, x, f0, d, tau, runs, start, monotone):
    """Combine probe runs [(t, vals, X), ...] into a ProbeResult. Candidates for descent
    are verified nearest first (at most ``VERIFY`` of them)."""
    for k, vals in enumerate(monotone):
        if _monotone_to_end(vals, f0, tau):
            t, v, X = runs[k]
            fin = np.flatnonzero(np.isfinite(v))
            j = fin[-1] if not (~np.isfinite(v)).any() else np.flatnonzero(~np.isfinite(v))[0] - 1
            if _verified(obj, X[j], v[j], f0, tau):
                return ProbeResult("unbounded", d * np.sign(t[0]), X[j].copy(), float(v[j]),
                                   float(t[j]), float(abs(t[j])), float(v[j]),
                                   obj.nfev - start)
    cands = sorted(((abs(t[i]), float(vals[i]), float(t[i]), X[i])
                   for t, vals, X in runs for i in np.flatnonzero(vals < f0 - tau)),
                   key=lambda c: c[0])
    for _, fy, ty, y in cands[:VERIFY]:
        if _verified(obj, y, fy, f0, tau):
            return ProbeResult("descent", d, y.copy(), fy, ty, abs(ty), fy, obj.nfev - start)
    t0, v0 = runs[0][0], runs[0][1]
    fin = np.flatnonzero(np.isfinite(v0))
    t_far, f_far = (float(abs(t0[fin[-1]])), float(v0[fin[-1]])) if fin.size else (0.0, f0)
    values = np.concatenate([vals for _, vals, _ in runs])
    values = values[np.isfinite(values)]
    outcome = "flat" if np.all(np.abs(values - f0) <= tau) else "rises"
    return ProbeResult(outcome, d, x.copy(), f0, 0.0, t_far, f_far, obj.nfev - start)


def _quadratic_rise(t, straight, f0, tau):
    """At the first distance t_k where f rises by more than 4 tau on both sides, the
    second differences c(t) = (f(x+tv) - 2f + f(x-tv)) / t^2 at t_k and at the next grid
    point 4 t_k are positive and agree within a factor 2 (quadratic: 1; quartic: 16; a
    kink |t|: 1/4)."""
    fp, fm = straight
    rise = (fp - f0 > 4 * tau) & (fm - f0 > 4 * tau)
    k = np.flatnonzero(rise)
    if k.size == 0 or k[0] + 1 >= t.size:
        return False
    k = k[0]
    c1 = (fp[k] - 2 * f0 + fm[k]) / t[k] ** 2
    c2 = (fp[k + 1] - 2 * f0 + fm[k + 1]) / t[k + 1] ** 2
    return bool(np.isfinite(c1) and np.isfinite(c2) and c1 > 0 and 0.5 * c1 <= c2 <= 2.0 * c1)
