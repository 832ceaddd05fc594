"""Saddle-aware trust-region Newton loop that stops only on evidence.

One loop, composed (like optimistix) of a *descent* -- the step from the trust-region
subproblem solved in the eigenbasis of H (:mod:`curvopt.subproblem`), one ``eigh`` per
model -- and a *search*: the ratio test rho = ared / pred, pred = -(g'p + p'Hp/2), and the
radius update of Nocedal & Wright (2006) Alg. 4.1 (accept when rho > eta = 0.15, scipy's
default; rho < 1/4: delta = ||p|| / 4; rho > 3/4 at the boundary: delta doubles, up to
``max_trust_radius``). A non-finite trial value is a rejected step.

The model (a :class:`Point`). With function values only: a finite-difference Hessian at
x0 (steps capped by curvature, :func:`curvopt.fd.steps.capped_hessian_steps`); after each
accepted step only a gradient -- forward differences far from stationarity, central
otherwise, central steps from third derivatives where known -- and an SR1 update, which
can represent negative curvature; a negative eigenvalue of the SR1 estimate is checked by
a second difference of f (2 evaluations) (:mod:`curvopt.quasi_newton`). The FD Hessian is
rebuilt after an accepted step with rho < 1/4, at the second consecutive rejection, and at
certification. A user ``hess`` is used at every accepted point; ``hessian_update='fd'``
rebuilds the FD Hessian at every accepted point.

Where progress stops the endgame of :mod:`curvopt.endings` decides (certify, probe,
escape, continue or stop); it also holds the runaway check after each accepted step.
Limits: ``maxfev`` (exact), ``maxiter`` and ``maxtime`` (between iterations) when given,
and the progress rule: ``stall`` iterations (default 20 n + 100) without a decrease of f
beyond its resolution end the run (STALLED). KeyboardInterrupt returns the point reached
(INTERRUPTED). docs/solver.md tells the whole policy.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from curvopt import endings
from curvopt.fd.steps import (AxisDifferences, capped_hessian_steps, curvature_scale,
                              third_derivative_steps)
from curvopt.loop_base import LoopBase
from curvopt.model import local_model
from curvopt.records import CallbackStop, Iterate, SolverResult
from curvopt.quasi_newton import (confirm_curvature, is_far, loop_gradient, sr1,
                                  trust_scaling)
from curvopt.spectrum import definiteness
from curvopt.subproblem import damped_trust_region_step, solve_trust_region, unscale

__all__ = ["Point", "Iterate", "SolverResult", "CallbackStop", "solve"]

ETA_LOW, ETA_HIGH, SHRINK, GROW = 0.25, 0.75, 0.25, 2.0   # N&W (2006) Alg. 4.1
DELTA_CAP = 1e100                   # keeps every p, p'Hp finite whatever max_trust_radius
ENDGAME = 1e-3    # a rejected interior Newton step promising < ENDGAME x the last
                   # accepted decrease: the gradient's error dominates, certify
SR1_STALE = 20    # consecutive skipped SR1 updates (N&W eq. 6.26) after which H is rebuilt:
                   # the secant pairs no longer inform it, and a stale H can creep for
                   # thousands of accepted interior steps (NIST Hahn1, MGH10)


@dataclass(frozen=True)
class Point:
    """An iterate and the model the loop holds there.

    ``g_tol``: size of the error of g (the subproblem's hard-case threshold); ``g_at_x``:
    g is a central-difference or user gradient at x (not forward, not the stencil's);
    ``g_steps``: its central steps; ``fresh``: H is an FD or exact Hessian at x (not an SR1
    estimate); ``model``: the cheap FD model at x (its stencil is reused at
    certification); ``cert``: the certificate at x and ``full`` the model with error
    bounds it was made from; ``d``: trust-region scaling.
    """

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    g_tol: float = 0.0
    g_at_x: bool = False
    g_steps: np.ndarray | None = None
    fresh: bool = True
    model: object = None
    cert: object = None
    full: object = None
    d: np.ndarray | None = None

    @cached_property
    def eig(self):
        """(lam, V) of the scaled H, D^-1 H D^-1 (None when H is not finite or eigh fails)."""
        Hs = self.H if self.d is None else self.H / np.outer(self.d, self.d)
        if not np.all(np.isfinite(Hs)):
            return None
        try:
            return np.linalg.eigh(Hs)
        except np.linalg.LinAlgError:
            return None


class Run(LoopBase):
    """The dense loop's context (:class:`~curvopt.loop_base.LoopBase`) and its models."""

    def __init__(self, obj, opts, report=None):
        super().__init__(obj, opts, report)
        self.rejects, self.strict, self.ray = 0, False, None
        self.pair = None                 # two central gradients at one x: third derivatives
        self.typ = None                  # typical sizes of x learned from diag H
        self.scaling = "none" if opts.trust_scaling == "auto" else opts.trust_scaling
        self.anchor = None               # (x, f) where the runaway check last looked
        self.falls = 0                   # consecutive runaway checks with f falling 100x
        self.last_drop = np.inf          # decrease of f at the last accepted step
        self.skipped = 0                 # consecutive SR1 updates skipped (SR1_STALE)

    # -- models -----------------------------------------------------------------------
    def hessian_steps(self, point):
        if self.opts.fd_step is not None:
            return self.opts.fd_step
        return capped_hessian_steps(point.x, point.f, np.diag(point.H), self.noise.step_rel,
                                    self.typ)

    def learn_scale(self, model):
        """Typical sizes of x from the curvature of an FD or exact model
        (:func:`curvopt.fd.steps.curvature_scale`): the steps follow |x_i| for a parameter
        that is small and stiff."""
        if self.opts.fd_step is None:
            self.typ = curvature_scale(model.f, np.diag(model.H))

    def refresh(self, point):
        """Cheap FD (or exact) model at x, f reused. A central or user gradient already
        taken at x is kept (the stencil's g is read at ~2 eps^(1/4)), and with the
        stencil's central g it gives the third derivatives for the gradient steps."""
        m = local_model(self.obj, point.x, f0=point.f, noise=self.noise, errors=False,
                        step=self.hessian_steps(point), typ=self.typ,
                        fit_scale=self.opts.fd_step is None)
        self.learn_scale(m)
        d = trust_scaling(self.scaling, point.x, m.H, point.d)
        if point.g_at_x:
            if point.g_steps is not None and m.step is not None:
                self.pair = AxisDifferences(m.g, 2.0 * m.step, point.g, point.g_steps)
            return replace(point, H=m.H, fresh=True, model=m, d=d, cert=None, full=None)
        g_err = np.linalg.norm(m.g_err)
        g_tol = float(g_err) if np.isfinite(g_err) else point.g_tol
        return replace(point, g=m.g, g_tol=g_tol, g_steps=None, H=m.H, fresh=True, model=m,
                       d=d, cert=None, full=None, g_at_x=self.obj.has_grad)

    def gradient(self, x, f, far=False, H=None):
        """The loop's gradient at x (:func:`curvopt.quasi_newton.loop_gradient`)."""
        steps = None
        if not self.obj.has_grad and not far:
            steps = third_derivative_steps(x, self.pair, self.noise_at(f),
                                           self.noise.step_rel, typ=self.typ)
        return loop_gradient(self.obj, x, f, self.noise_at(f), self.noise.step_rel, far, H,
                             steps, self.typ)

    def at(self, x, f, point=None):
        """A fresh point at x (a jump: probe or escape target) with its cheap model."""
        x = self.obj.point(x)
        H = point.H if point is not None else np.eye(x.shape[0])
        d = point.d if point is not None else None
        return self.refresh(Point(x=x, f=f, g=np.zeros(x.shape[0]), H=H, d=d))

    def certify(self, point):
        """Full model with error bounds at x (reusing the cheap stencil there), and its
        certificate; the noise it measured becomes the loop's."""
        steps = None
        if self.pair is not None and not self.obj.has_grad:
            steps = third_derivative_steps(point.x, self.pair, self.noise_at(point.f),
                                           self.noise.step_rel, typ=self.typ)
        model = local_model(self.obj, point.x, f0=point.f, errors=True,
                            step=self.hessian_steps(point), grad_steps=steps,
                            reuse=point.model, typ=self.typ,
                            fit_scale=self.opts.fd_step is None)
        self.learn_scale(model)
        if model.noise is not None and model.noise.nfev > 0:
            self.noise = model.noise
        cert = endings.certify_model(model, self.opts)
        d = trust_scaling(self.scaling, point.x, model.H, point.d)
        g_err = float(np.linalg.norm(model.g_err))
        return replace(point, g=model.g, H=model.H, fresh=True, cert=cert, full=model, d=d,
                       g_tol=g_err if np.isfinite(g_err) else point.g_tol, g_steps=None,
                       g_at_x=True), model

    # -- one step -------------------------------------------------------------------------
    def tr_step(self, point):
        """The trust-region step at the point's model (eigen path, damped fallback)."""
        d = point.d if point.d is not None else 1.0
        delta = min(self.delta, DELTA_CAP)
        if point.eig is None:
            step = damped_trust_region_step(point.g / d, point.H / np.outer(d, d)
                                            if point.d is not None else point.H, delta)
            return unscale(step, d), float("nan"), None
        lam, V = point.eig
        step = solve_trust_region(point.g / d, lam, V, delta, g_tol=point.g_tol / np.min(d))
        return unscale(step, d), float(lam[0]), definiteness(lam, self.obj.f_eps)

    def trial(self, x, p):
        """f(x + p); a non-finite value is +inf (a rejected step)."""
        with np.errstate(over="ignore", invalid="ignore"):
            xt = (x + p).astype(x.dtype)
        if not np.all(np.isfinite(xt)):
            return np.inf
        ft = self.obj.f(xt)
        return ft if np.isfinite(ft) else np.inf

    def accept(self, point, p, f_new, rho):
        """Move to x + p: a new gradient and SR1 update, or an FD / exact Hessian."""
        obj, opts = self.obj, self.opts
        x_new = (point.x + p).astype(point.x.dtype)
        self.rejects = 0
        if obj.has_hess or opts.hessian_update == "fd" or rho < ETA_LOW:
            new = Point(x=x_new, f=f_new, g=point.g, H=point.H, g_tol=point.g_tol, d=point.d)
            if opts.hessian_update == "fd" and not (obj.has_grad or obj.has_hess):
                lg = self.gradient(x_new, f_new)
                new = replace(new, g=lg.g, g_tol=lg.g_tol, g_at_x=True, g_steps=lg.steps)
            return self.refresh(new)
        far = not obj.has_grad and is_far(x_new, f_new, point.g, point.H, self.noise.step_rel,
                                          self.typ)
        lg = self.gradient(x_new, f_new, far, point.H)
        s = x_new.astype(float) - point.x.astype(float)
        H = sr1(point.H, s, lg.g - point.g)
        self.skipped = self.skipped + 1 if H is point.H else 0
        new = Point(x=x_new, f=f_new, g=lg.g, H=H, g_tol=lg.g_tol, g_at_x=lg.at_x,
                    g_steps=lg.steps, fresh=False, d=point.d)
        if self.skipped >= SR1_STALE:
            self.skipped = 0
            return self.refresh(new)
        return new

    def iterate(self, point):
        """One iteration: step, ratio test, radius update, accept or reject."""
        step, lam_min, self.curvature = self.tr_step(point)
        if not point.fresh and lam_min < 0:           # SR1 suspects negative curvature
            H = confirm_curvature(self.obj, point.x, point.f, point.H, self.noise.step_rel,
                                  self.typ)
            point = self.refresh(point) if H is None else replace(point, H=H)
            step, lam_min, self.curvature = self.tr_step(point)
        self.lam_min = lam_min
        reason = endings.looks_stationary(self, point, step)
        if reason is not None:
            return endings.at_no_progress(self, point, reason)
        pred, p = step.predicted_reduction, step.p
        ft = self.trial(point.x, p)
        if (point.f - ft) <= self.opts.eta * pred and step.alt is not None:
            ft_alt = self.trial(point.x, step.alt)   # both signs (hard case)
            if ft_alt < ft:
                p, ft = step.alt, ft_alt
        rho = (point.f - ft) / pred
        norm_p = float(np.linalg.norm(p if point.d is None else point.d * p))
        if rho < ETA_LOW:
            self.delta = SHRINK * norm_p
        elif rho > ETA_HIGH and norm_p >= (1 - 1e-6) * self.delta:
            self.delta = min(GROW * self.delta, self.opts.max_trust_radius)
        if rho <= self.opts.eta:
            if (step.kind == "newton" and point.g_at_x and point.cert is None
                    and pred <= ENDGAME * self.last_drop):
                self.kind = "newton_rejected"      # the model is wrong at its own scale
                return endings.at_no_progress(self, point, "rejected")   # near the end
            return self.reject(point, step.kind)
        if point.f - ft > self.resolution(point.f):
            self.strict = False                      # left the stationary region
        self.last_drop = point.f - ft
        self.kind = step.kind
        return endings.runaway(self, self.accept(point, p, ft, rho), p)

    def reject(self, point, kind):
        self.kind, self.rejects = kind + "_rejected", self.rejects + 1
        if self.rejects >= 2 and not point.g_at_x:     # forward or stencil g: sharpen it
            lg = self.gradient(point.x, point.f)
            point = replace(point, g=lg.g, g_tol=lg.g_tol, g_at_x=True, g_steps=lg.steps)
        if self.rejects >= 2 and not point.fresh:      # the SR1 model failed twice
            point = self.refresh(point)
        return point, None

    # -- the run ------------------------------------------------------------------------------
    def row(self, point):
        c = point.cert.classification if point.cert is not None else None
        return Iterate(self.nit, point.x.copy(), point.f, float(np.linalg.norm(point.g)),
                       self.lam_min, self.delta, self.kind, c, self.curvature)

    def run(self):
        x0, f0 = self.start()
        n = x0.shape[0]
        self.anchor = (x0, f0)

        def begin():
            self.noise = self.initial_noise(x0, f0)
            point = self.refresh(Point(x=x0, f=f0, g=np.zeros(n), H=np.eye(n)))
            self.lam_min, self.curvature = _bottom(point, self.obj.f_eps)
            return point

        point, status = self.drive(begin, self.iterate, lambda point: point.f)
        if point is None:                   # stopped before the first model
            point = Point(x=x0, f=f0, g=np.full(n, np.nan), H=np.full((n, n), np.nan))
        if status in endings.CERTIFY_AT_END and point.cert is None:
            point = endings.final_certificate(self, point)
        return SolverResult(point.x, point.f, point.g, point.H, self.nit, status, point.cert,
                            self.ray)


def _bottom(point, f_eps):
    if point.eig is None:
        return float("nan"), None
    lam = point.eig[0]
    return float(lam[0]), definiteness(lam, f_eps)


def solve(obj, opts, report=None):
    """Run the trust-region loop on an :class:`~curvopt.objective.Objective`.

    Parameters
    ----------
    obj : Objective
    opts : curvopt.options.Options
    report : callable, optional
        ``report(row, final)`` with an :class:`Iterate` for x0 (nit 0) and after each
        iteration, ``final`` True for the last one. History, log and user callback live
        in the API layer; ``StopIteration`` raised by ``report`` ends the run (status 99).

    Returns
    -------
    SolverResult (ValueError when f(x0) is not finite)
    """
    return Run(obj, opts, report).run()
