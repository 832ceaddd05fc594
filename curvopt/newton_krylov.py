"""Matrix-free trust-region Newton loop for large n: Steihaug-Toint CG steps on products.

The same search as :mod:`curvopt.trust_region` (rho = ared / pred, Nocedal & Wright 2006
Alg. 4.1) with a *descent* that needs only products v -> H v
(:mod:`curvopt.operators`): truncated CG (:func:`curvopt.krylov.steihaug_cg`), which
stops at the boundary, along the first direction of non-positive curvature it meets, or
at the relative residual min(1/2, sqrt(||g|| / ||g_0||)) (the forcing sequence of
Eisenstat & Walker 1996 / N&W eq. 7.3 made independent of the scale of f).
No n x n matrix is formed unless ``hess_sparsity`` is given (then a sparse one).

The loop certifies when an interior Newton step promises less than the resolution tau
of f or stays within the gradient stencil (|p_i| <= eps_f^(1/3) max(1, |x_i|), once f has
fallen since the last not-stationary certificate), or the radius has shrunk below it: up
to n = DENSE_CERT_N (200) with the dense certificate (:func:`curvopt.certificate.certify`
on an FD H with error bounds, 4n^2 values: deterministic, with standard errors), above
from products
(:func:`curvopt.krylov_certificate.certify_products`). Then:

* ``minimum`` -- MINIMUM (deterministic with a sparse H, else probabilistic: the
  certificate says which);
* negative curvature certified (a Ritz vector y with y'Hy < 0 beyond its error) --
  escape: f is evaluated at x +- t y for t doubling from the curvature's natural length
  sqrt(2 tau / |y'Hy|) until f drops below f(x) - tau; the loop continues there
  (ESCAPE_FAILED if no t up to ``max_trust_radius`` does);
* ``not_stationary`` -- CG is tightened (relative residual 1e-10) and the loop goes on;
  again before f fell beyond its resolution: NOT_STATIONARY;
* ``inconclusive`` without negative curvature -- f is probed along the direction the
  certificate could not decide (the smallest Ritz value's; :mod:`curvopt.probe`): lower
  f continues the run from there (a degenerate saddle), f falling along the whole ray
  ends it with NO_FINITE_MINIMIZER; else INCONCLUSIVE (the other directions are not
  probed, so no degenerate minimum is claimed at large n);
* anything else -- INCONCLUSIVE.

An accepted step that carries ||x|| beyond 1e12 max(1, ||x0||), f still falling, ends the
run with NO_FINITE_MINIMIZER (no ray is recorded at large n).

A run that ends at a limit (maxiter, maxtime, stall) is certified where it stopped, as
in the dense loop; ``success`` rests on the certificate alone.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from curvopt.certificate import certify
from curvopt.fd.steps import steps_for
from curvopt.krylov import steihaug_cg
from curvopt.krylov_certificate import certify_products, equilibration, lanczos_steps
from curvopt.loop_base import LoopBase
from curvopt.model import local_model
from curvopt.objective import BudgetExhausted, NonFiniteError
from curvopt.operators import curvature_at, loop_gradient_at
from curvopt.probe import probe_direction
from curvopt.status import Status
from curvopt.records import Iterate, SolverResult

__all__ = ["solve_krylov", "certify_point", "use_krylov", "KRYLOV_N", "DENSE_CERT_N"]

#: ``subproblem="auto"`` takes this loop above this n
KRYLOV_N = 64
#: up to this n the certificate is the dense one (an FD H with bounds: deterministic)
DENSE_CERT_N = 200
ETA_LOW, ETA_HIGH, SHRINK, GROW = 0.25, 0.75, 0.25, 2.0
TIGHT_RTOL = 1e-10
SCALE_SPREAD = 10.0  # the trust region is scaled when max D / min D exceeds this
RUNAWAY = 1e12     # accepted steps carried ||x|| this many times past max(1, ||x0||)


class KrylovRun(LoopBase):
    """The matrix-free loop's context (:class:`~curvopt.loop_base.LoopBase`)."""

    def __init__(self, obj, opts, report):
        super().__init__(obj, opts, report)
        self.rtol, self.g0 = None, 0.0
        self.cert = None
        self.checked_at = None           # f at the last not-stationary certificate
        self.ray = None                  # a probe that saw f fall along a whole ray

    # -- gradient and products -----------------------------------------------------------
    def steps(self, x, kind):
        """The finite-difference steps of ``kind`` at x for the run's noise level
        (:func:`curvopt.fd.steps.steps_for`): where a stencil stops resolving f."""
        return steps_for(x, self.noise.step_rel, kind)

    def model(self, x, f, g=None, errors=False):
        """(g, ||g_err||, Curvature) at x."""
        rel = self.noise.step_rel
        if g is None:
            g, ge = loop_gradient_at(self.obj, x, f, self.noise_at(f), rel, errors)
        else:
            ge = np.nan
        curv = curvature_at(self.obj, x, f, g, rel, self.noise_at(f),
                            sparsity=self.opts.hess_sparsity, errors=errors)
        return g, ge, curv

    def scale(self, curv, f):
        """D of the ellipsoidal trust region ||D p|| <= delta: D = sqrt(|diag H|)
        (:func:`curvopt.krylov_certificate.equilibration`), i.e. CG with the Jacobi
        preconditioner (Steihaug 1983), where diag H is cheap and its square roots spread
        over more than SCALE_SPREAD; else the ball (D = 1). The certificate always uses
        the equilibrated operator."""
        if curv.D is None:
            curv.D = equilibration(curv.diagonal(f), curv.x.shape[0])
        D = curv.D
        return D if float(np.max(D)) > SCALE_SPREAD * float(np.min(D)) else np.ones_like(D)

    # -- certificate and escape -------------------------------------------------------------
    def certify(self, x, f):
        n = x.shape[0]
        self.announce(f"certifying at f = {f:.6g}: gradient with error bound and "
                      f"up to {lanczos_steps(n)} Lanczos products")
        start = self.obj.nfev
        if n <= DENSE_CERT_N and self.opts.hess_sparsity is None:
            return self.certify_dense(x, f, start)
        g, ge_norm, curv = self.model(x, f, errors=True)
        g_err = np.full(n, ge_norm / np.sqrt(n))
        reach = float(np.min(self.steps(x, "hessian")))
        cert = certify_products(curv, f, g, g_err, self.resolution(f), reach,
                                sigma=self.noise_at(f), gtol=self.opts.gtol,
                                names=self.opts.names)
        cert = replace(cert, nfev=self.obj.nfev - start)
        self.cert, self.lam_min = cert, cert.lam_min
        return g, curv, cert

    def certify_dense(self, x, f, start):
        """Up to DENSE_CERT_N the certificate of the dense loop: an FD (or exact) H with
        elementwise bounds (4n^2 + 2n values), deterministic, with standard errors."""
        m = local_model(self.obj, x, f0=f, noise=self.noise, errors=True)
        cert = replace(certify(m, gtol=self.opts.gtol, names=self.opts.names),
                       nfev=self.obj.nfev - start)
        self.cert, self.lam_min = cert, cert.lam_min
        g, _, curv = self.model(x, f, g=m.g)
        return g, curv, cert

    def escape(self, x, f, cert):
        """(x, f) after a step along the certified negative-curvature Ritz vector, or
        None when no length up to max_trust_radius lowers f beyond tau. From the first
        length t that does (t doubling from sqrt(2 tau / |y'Hy|), both signs), t keeps
        doubling while f keeps falling: the step goes down the well, not just off the top."""
        y = cert.negative_directions[:, 0]
        curv = abs(float(cert.lam_min))
        t = max(np.sqrt(2.0 * self.resolution(f) / curv) if curv > 0 else 1.0, 1e-8)
        while t <= self.opts.max_trust_radius:
            for s in (1.0, -1.0):
                ft = self.along(x, s * t * y)
                if ft < f - self.resolution(f):
                    while 2.0 * t <= self.opts.max_trust_radius:
                        f2 = self.along(x, 2.0 * s * t * y)
                        if not f2 < ft:
                            break
                        t, ft = 2.0 * t, f2
                    self.delta = max(self.delta, t)
                    return (x + s * t * y).astype(x.dtype), float(ft)
            t *= 2.0
        return None

    def along(self, x, p):
        """f(x + p), +inf where it is not finite."""
        ft = self.obj.f((x + p).astype(x.dtype))
        return float(ft) if np.isfinite(ft) else np.inf

    def moved_since_check(self, f):
        """f fell beyond its resolution since the last not-stationary certificate."""
        return self.checked_at is None or f < self.checked_at - self.resolution(self.checked_at)

    def at_rest(self, x, f, g):
        """The endgame at a point where progress stopped: (x, f, g, curv, status)."""
        g, curv, cert = self.certify(x, f)
        if cert.classification == "minimum":
            return x, f, g, curv, Status.MINIMUM
        if cert.negative_directions.shape[1] > 0:
            moved = self.escape(x, f, cert)
            if moved is None:
                return x, f, g, curv, Status.ESCAPE_FAILED
            self.kind, self.cert = "escape", None
            x, f = moved
            g, _, curv = self.model(x, f)
            return x, f, g, curv, None
        if cert.classification == "not_stationary" and self.moved_since_check(f):
            self.rtol, self.kind, self.checked_at = TIGHT_RTOL, "tighten", f
            return x, f, g, curv, None
        if cert.classification == "not_stationary":
            return x, f, g, curv, Status.NOT_STATIONARY
        moved = self.probe_undecided(x, f, cert)
        if moved is None:
            return x, f, g, curv, Status.INCONCLUSIVE
        x, f, status = moved
        g, _, curv = self.model(x, f)
        return x, f, g, curv, status

    def probe_undecided(self, x, f, cert):
        """Probe f along the direction an inconclusive certificate could not decide (the
        smallest Ritz value's: :func:`curvopt.probe.probe_direction`, both signs, out to
        the far grid, from the stencil's reach along it). (x, f, status) at the lowest
        verified probe -- status NO_FINITE_MINIMIZER when f falls along the whole ray
        (``ray`` recorded), None when the run goes on from there -- or None when f is not
        lower (the ending stays INCONCLUSIVE: the other directions are not probed)."""
        tau = max(cert.resolution, self.resolution(f))
        steps = self.steps(x, "hessian")
        for v in cert.flat_directions.T:
            res = probe_direction(self.obj, x, f, v, tau, float(np.abs(v) @ steps))
            if res.outcome == "unbounded":
                self.ray = res
                return x, f, Status.NO_FINITE_MINIMIZER
            if res.outcome == "descent":
                self.kind, self.cert = "probe_descent", None
                self.delta = max(self.delta, abs(res.t_best))
                return res.x_best.astype(x.dtype), float(res.f_best), None
        return None

    # -- the loop -----------------------------------------------------------------------
    def announce(self, text):
        if self.opts.disp:
            print(f"      {text}  [{time.monotonic() - self.t0:.1f} s, nfev {self.obj.nfev}]",
                  flush=True)

    def row(self, state):
        x, f, g, _ = state
        c = self.cert.classification if self.cert is not None else None
        return Iterate(self.nit, x.copy(), f, float(np.linalg.norm(g)), self.lam_min,
                       self.delta, self.kind, c, None)

    def iterate(self, x, f, g, curv):
        """One trust-region iteration: (x, f, g, curv, status)."""
        D = self.scale(curv, f)
        gn = float(np.linalg.norm(g / D))
        self.g0 = self.g0 or gn
        rtol = self.rtol if self.rtol is not None else (
            min(0.5, np.sqrt(gn / self.g0)) if self.g0 > 0 else None)
        step, _ = steihaug_cg(lambda v: curv.hessp(v / D) / D, g / D,
                                 min(self.delta, 1e100), rtol=rtol)
        pred, p = step.predicted_reduction, step.p / D
        h = self.steps(x, "central")                    # the gradient stencil
        within = self.moved_since_check(f) and bool(np.all(np.abs(p) <= h))
        resting = step.kind == "newton" and (pred <= self.resolution(f) or within)
        if resting or self.delta < float(np.min(h)):
            return self.at_rest(x, f, g)
        xt = (x + p).astype(x.dtype)
        ft = self.obj.f(xt) if np.all(np.isfinite(xt)) else np.inf
        ft = ft if np.isfinite(ft) else np.inf
        rho = (f - ft) / pred if pred > 0 else -np.inf
        norm_p = float(np.linalg.norm(step.p))
        if rho < ETA_LOW:
            self.delta = SHRINK * norm_p
        elif rho > ETA_HIGH and norm_p >= (1 - 1e-6) * self.delta:
            self.delta = min(GROW * self.delta, self.opts.max_trust_radius)
        self.kind = step.kind if rho > self.opts.eta else step.kind + "_rejected"
        if rho <= self.opts.eta:
            return x, f, g, curv, None
        self.cert = None
        if np.linalg.norm(xt) > RUNAWAY * max(1.0, float(np.linalg.norm(self.obj.x0))):
            return xt, float(ft), g, curv, Status.NO_FINITE_MINIMIZER
        g, _, curv = self.model(xt, float(ft))
        return xt, float(ft), g, curv, None

    def run(self):
        x0, f0 = self.start()

        def begin():
            self.noise = self.initial_noise(x0, f0)
            g, _, curv = self.model(x0, f0)
            return x0, f0, g, curv

        def iterate(state):
            *state, status = self.iterate(*state)
            return tuple(state), status

        state, status = self.drive(begin, iterate, lambda state: state[1])
        x, f, g, _ = state if state is not None else (x0, f0, np.full(x0.shape[0], np.nan),
                                                      None)
        if status in (Status.MAXITER, Status.MAXTIME, Status.STALLED) and self.cert is None:
            try:
                g, _, _ = self.certify(x, f)
            except (BudgetExhausted, NonFiniteError):
                pass
        return SolverResult(x, f, g, None, self.nit, status, self.cert, self.ray)


def use_krylov(n, opts, has_hess=False):
    """True when the matrix-free path applies: ``subproblem="krylov"``, or "auto" above
    n = KRYLOV_N or with ``hess_sparsity`` (never with a user ``hess``)."""
    if has_hess or opts.subproblem == "eigen":
        return False
    return opts.subproblem == "krylov" or n > KRYLOV_N or opts.hess_sparsity is not None


def certify_point(obj, opts, f):
    """The matrix-free certificate at ``obj.x0`` (f = f(x0)), as at the end of a run."""
    run = KrylovRun(obj, opts, None)
    run.noise = run.initial_noise(obj.x0, f)
    return run.certify(obj.x0, f)[2]


def solve_krylov(obj, opts, report=None):
    """Run the matrix-free loop (same contract as :func:`curvopt.trust_region.solve`)."""
    return KrylovRun(obj, opts, report or (lambda row, final: None)).run()
