"""What both solver loops share: the run's context, the noise of f, and the budgets.

:class:`LoopBase` holds the objective, options, report, trust radius, counters and the
noise estimate; :mod:`curvopt.trust_region` (dense) and :mod:`curvopt.newton_krylov`
(matrix-free) extend it with their models and steps.
"""
from __future__ import annotations

import time

import numpy as np

from curvopt.fd.noise import assumed_noise, estimate_noise
from curvopt.stationarity import RESOLUTION_K
from curvopt.status import Status

__all__ = ["LoopBase"]


class LoopBase:
    """The loop's context: objective, options, radius, noise, counters."""

    def __init__(self, obj, opts, report=None):
        self.obj, self.opts = obj, opts
        self.report = report if report is not None else (lambda row, final: None)
        self.delta = float(opts.initial_trust_radius)
        self.nit, self.kind, self.lam_min = 0, "start", float("nan")
        self.noise = None
        self.progress = (0, np.inf)      # (nit, f) of the last decrease beyond resolution
        self.t0 = time.monotonic()

    # -- noise of f -------------------------------------------------------------------
    def initial_noise(self, x, f):
        """ECnoise at x0 (More & Wild 2011) without a user gradient and with the default
        ``noise=True``; else the user's noise level or the rounding level."""
        obj, noise = self.obj, self.opts.noise
        if noise is True and not obj.has_grad:
            return estimate_noise(obj, x, f)
        return assumed_noise(obj, f, None if isinstance(noise, bool) else noise)

    def noise_at(self, f):
        """Absolute noise of f at a point with value f: the relative noise of the last
        estimate, sigma / |f_est|, times |f|, and at least the rounding level f_eps |f|
        (each certification measures the noise again, so it follows f)."""
        est = self.noise
        rel = est.sigma / abs(est.f) if est.f != 0 else 0.0
        return max(rel, self.obj.f_eps) * abs(f)

    def resolution(self, f):
        """tau: the smallest decrease of f that comparisons of f can see."""
        return RESOLUTION_K * self.noise_at(f)

    # -- budgets ------------------------------------------------------------------------
    def limit(self, f):
        """A budget status, or None: maxiter, maxtime, or no progress (STALLED)."""
        opts = self.opts
        if f < self.progress[1] - self.resolution(f):
            self.progress = (self.nit, f)
        if opts.maxiter is not None and self.nit >= opts.maxiter:
            return Status.MAXITER
        if opts.maxtime is not None and time.monotonic() - self.t0 >= opts.maxtime:
            return Status.MAXTIME
        if self.nit - self.progress[0] >= opts.stall_iterations(self.obj.n):
            return Status.STALLED
        return None
