"""The rounding-level step: progress below the loop's noise test, taken only on evidence.

Used by :mod:`curvopt.endings` where the loop sees no measurable progress.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from curvopt.quasi_newton import sr1, trust_scaling

__all__ = ["rounding_level_step"]


def rounding_level_step(run, point):
    """Try the model step where the loop's precision test says "no progress"; the new
    point if taken, else None.

    Near the optimum of a function with large |f| (a log-likelihood) or with a coarse FD
    gradient (float32 arithmetic), real progress may remain below the noise test. The step
    (radius restarted; Jacobi-scaled, d_i = sqrt|H_ii|, since the eigenvectors of a badly
    scaled H are too coarse at this level) is taken when f decreases by more than twice
    its noise, or, for a positive definite model, when f does not rise above its noise
    and the gradient at the trial point is at most half the current one beyond its error:
    ||g+|| + e+ <= ||g|| / 2 (Newton converges quadratically, N&W 2006 Thm. 3.5). Failing
    that, the 1-D Newton step -g_i / H_ii along the coordinate with the largest |g_i|.
    Each taken step decreases f or halves ||g||, so this cannot cycle.
    """
    run.delta = max(run.delta, run.opts.initial_trust_radius)
    scaled = replace(point, d=trust_scaling("hessian", point.x, point.H))
    step, lam_min, _ = run.tr_step(scaled)
    return (_try_rounding_level(run, point, step.p, lam_min > 0)
            or _try_rounding_level(run, point, _coordinate_step(point), True))


def _coordinate_step(point):
    """-g_i / H_ii e_i for the i (H_ii > 0) maximizing |g_i|, or None."""
    dH = np.diag(point.H)
    ok = np.isfinite(dH) & (dH > 0)
    if not np.any(ok):
        return None
    i = int(np.argmax(np.where(ok, np.abs(point.g), -1.0)))
    p = np.zeros(point.g.shape)
    p[i] = -point.g[i] / dH[i]
    return p


def _try_rounding_level(run, point, p, convex):
    if p is None or not np.all(np.isfinite(p)):
        return None
    x_new = (point.x + p).astype(point.x.dtype)
    if np.array_equal(x_new, point.x):
        return None
    ft = run.trial(point.x, p)
    noise = run.noise_at(point.f)
    if point.f - ft > 2.0 * noise:
        run.kind = "rounding_level"
        return run.accept(point, p, ft, rho=1.0)
    if not (convex and ft <= point.f + 2.0 * noise):
        return None
    lg = run.gradient(x_new, ft)
    if not np.linalg.norm(lg.g) + lg.g_tol <= 0.5 * float(np.linalg.norm(point.g)):
        return None
    s = x_new.astype(float) - point.x.astype(float)
    run.kind, run.rejects = "rounding_level", 0
    return replace(point, x=x_new, f=ft, g=lg.g, g_tol=lg.g_tol, g_at_x=True,
                   g_steps=lg.steps, H=sr1(point.H, s, lg.g - point.g), fresh=False,
                   model=None, cert=None)
