"""What both solver loops share: the run's context, the noise of f, the budgets, the driver.

:class:`LoopBase` holds the objective, options, report, trust radius, counters and the
noise estimate, and drives the loop (:meth:`LoopBase.drive`: begin, iterate until a
status, report each state, end on the exceptions of ENDINGS); :mod:`curvopt.trust_region`
(dense) and :mod:`curvopt.newton_krylov` (matrix-free) extend it with their models and
steps.
"""
from __future__ import annotations

import time

import numpy as np

from curvopt.fd.noise import assumed_noise, estimate_noise
from curvopt.objective import BudgetExhausted, NonFiniteError
from curvopt.records import CallbackStop
from curvopt.stationarity import RESOLUTION_K
from curvopt.status import Status

__all__ = ["LoopBase", "ENDINGS"]

#: exceptions that end a run, with the status each ends it with (NonFiniteError: f not
#: finite at the stencil points around x)
ENDINGS = ((BudgetExhausted, Status.MAXFEV), (CallbackStop, Status.CALLBACK_STOP),
           (NonFiniteError, Status.NONFINITE), (KeyboardInterrupt, Status.INTERRUPTED))


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

    # -- the loop ----------------------------------------------------------------------
    def start(self):
        """(x0, f(x0)); ValueError where f(x0) is not finite."""
        x0 = self.obj.x0.copy()
        f0 = self.obj.f(x0)
        if not np.isfinite(f0):
            raise ValueError(f"f(x0) = {f0} is not finite at x0 = {x0}")
        return x0, f0

    def drive(self, begin, iterate, value):
        """Run the loop: ``state = begin()``, then ``state, status = iterate(state)`` until a
        status (the step's own, or a budget of :meth:`limit` on ``value(state)``), each
        state reported (:meth:`emit`). An exception of ENDINGS ends the run with its
        status. Returns (the last state, None if ``begin`` did not finish; status)."""
        state, status = None, None
        try:
            state = begin()
            self.emit(state, False)
            while status is None:
                status = self.limit(value(state))
                if status is not None:
                    break
                self.nit += 1
                state, status = iterate(state)
                self.emit(state, status is not None)
        except tuple(e for e, _ in ENDINGS) as exc:
            status = next(s for e, s in ENDINGS if isinstance(exc, e))
        return state, status

    def emit(self, state, final):
        """Report the row of a state (``self.row``); StopIteration from the user's
        callback ends the run (CallbackStop)."""
        try:
            self.report(self.row(state), final)
        except StopIteration:
            raise CallbackStop from None

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
