"""How a run ends: what the loop does where progress stops, and the runaway check.

Where the loop sees no measurable progress (:func:`looks_stationary`), it first tries a
rounding-level Newton step (taken only if f does not rise beyond its noise and the
gradient halves beyond its error: the end point gets the smallest gradient the
differences can show); where that fails, it builds the full model with error bounds and
certifies it; :func:`at_no_progress` then acts on the
certificate by this table (``fresh``: the first certificate at this point):

=========================  ====================================================  ==========
certificate                action                                                ends with
=========================  ====================================================  ==========
minimum                    probe the shallow directions (:func:`look_beyond`);   MINIMUM /
                           stop unless f is lower further out                    continue
degenerate                 probe f along the flat/weak directions, both signs,   see below
                           straight and curved (:mod:`curvopt.probe`)
saddle, maximum, or        step along the most negative direction, both signs,   continue /
negative curvature         shrinking by 4 down to the noise of f                 ESCAPE_FAILED
certified
not stationary,            a rounding-level step (model step, then 1-D Newton);  continue /
inconclusive               fresh: restart the radius; else stop                  NOT_STATIONARY
                                                                                 / INCONCLUSIVE
=========================  ====================================================  ==========

Probe outcomes: ``unbounded`` (f falls along a ray as far as probed) ends with
NO_FINITE_MINIMIZER, naming the parameters that diverge; ``descent`` continues from the
best probe point; every direction ``curved`` ends with MINIMUM (the curvature along it
resolved positive by f itself); otherwise DEGENERATE_MINIMUM (f flat within its noise, or
rising faster than quadratically, along some direction: flat parameters named).

The runaway check (:func:`runaway`): after an accepted step, when ||x|| has grown tenfold
since the last check (or f fell by a hundredfold), f is probed along that step:
``unbounded`` ends the run (NO_FINITE_MINIMIZER), ``descent`` jumps to the best point.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from curvopt.certificate import RESOLUTION_K, certify
from curvopt.objective import BudgetExhausted, NonFiniteError
from curvopt.probe import parabola, probe_direction, probe_ray
from curvopt.quasi_newton import trust_scaling
from curvopt.rounding_step import rounding_level_step
from curvopt.status import Status
from curvopt.subproblem import negative_curvature_step

__all__ = ["looks_stationary", "at_no_progress", "runaway", "final_certificate",
           "certify_model", "verdict", "CERTIFY_AT_END", "RESOLUTION_K"]

CERTIFY_AT_END = {Status.MAXITER, Status.MAXTIME, Status.STALLED, Status.INTERRUPTED}
GROWTH_X, GROWTH_F = 10.0, 100.0    # runaway check: ||x|| tenfold, f a hundredfold lower
FALLS = 4                           # consecutive hundredfold falls of a negative f
LOST = 2.0                          # ||g|| within LOST x its rounding bound: certify
POLISH = 100.0                      # polish before certifying while ||g|| > POLISH x it
LOADING = 0.3                       # a parameter diverges / is flat when |d_i| > LOADING
MAX_PROBED = 4                      # flat directions probed (the flattest), plus the sum
                                    # and difference of the two flattest


def certify_model(model, opts):
    return certify(model, gtol=opts.gtol, names=opts.names)


def looks_stationary(run, point, step):
    """Why the loop sees no measurable progress, or None.

    "noise": the predicted reduction is below twice the noise of f (plus, after a
    certificate, the uncertainty ||g_err|| ||p|| of g'p), the radius fell to the
    rounding level of x, or a central (or user) gradient is within ``LOST`` times its
    rounding error (the bound leaves out truncation: the direction is undetermined). "gtol": the user's absolute gtol, ||g|| <= gtol / 10 (skipped
    after a certificate found negative curvature or flat directions there: ``strict``).
    """
    floor = 2.0 * run.noise_at(point.f)
    if point.cert is not None:
        floor += point.g_tol * float(np.linalg.norm(step.p))
    tiny = run.delta <= 4 * run.obj.eps_x * max(1.0, float(np.linalg.norm(point.x)))
    lost = point.g_at_x and np.linalg.norm(point.g) <= LOST * point.g_tol
    if step.predicted_reduction <= floor or tiny or lost:
        return "noise"
    gtol = run.opts.gtol
    if gtol is not None and not run.strict and np.linalg.norm(point.g) <= 0.1 * gtol:
        return "gtol"
    return None


def verdict(cert, ctol=0.0):
    """Status for a certificate reached where no progress is left."""
    cls = cert.classification
    if cls == "minimum":             # every eigenvalue certified > 0 (on D^-1 H D^-1)
        strict = ctol == 0.0 or cert.lam_min - cert.lam_err > ctol
        return Status.MINIMUM if strict else Status.DEGENERATE_MINIMUM
    return Status.NOT_STATIONARY if cls == "not_stationary" else Status.INCONCLUSIVE


def at_no_progress(run, point, reason):
    """Certify (once per point) and act by the table of the module docstring."""
    fresh = point.cert is None
    if (fresh and reason != "gtol" and point.g_at_x and run.lam_min > 0
            and np.linalg.norm(point.g) > POLISH * point.g_tol):
        moved = rounding_level_step(run, point)     # polish first: where the Newton step
        if moved is not None:                       # still halves ||g||, no certificate
            return runaway(run, moved, moved.x - point.x)   # is needed yet
    if fresh:
        point, _ = run.certify(point)
    cert = point.cert
    cls, neg = cert.classification, cert.negative_directions.shape[1] > 0
    shortcut = fresh and reason == "gtol"
    if cls == "minimum":
        beyond = look_beyond(run, point) if fresh and cert.stationarity != "gtol" else None
        return (beyond, None) if beyond is not None else (point, verdict(cert, run.opts.ctol))
    if shortcut and (neg or cls == "degenerate"):
        run.strict, run.kind = True, "certified_" + cls
        return point, None
    if cls == "degenerate":
        return resolve_flat(run, point)
    if neg:
        return escape(run, point)
    if cls in ("not_stationary", "inconclusive") and run.scaling == "none" and \
            run.opts.trust_scaling == "auto":
        return rescale(run, point), None
    if fresh and cls == "inconclusive" and cert.stationary is None and \
            cert.flat_directions.shape[1] > 0:
        moved = probe_open(run, point)
        if moved is not None:
            return moved
    if cls in ("not_stationary", "inconclusive") and reason in ("noise", "rejected"):
        moved = rounding_level_step(run, point)
        if moved is not None:
            return runaway(run, moved, moved.x - point.x)
    if fresh:                        # continue from the fresh, accurate model
        run.kind = "certified_" + cls
        run.delta = max(run.delta, run.opts.initial_trust_radius)
        return point, None
    return point, verdict(cert, run.opts.ctol)


def escape(run, point):
    """Step along the most negative certified direction; both signs, shrinking by 4 down
    to the length whose model decrease |lam| a^2 / 2 clears the noise of f."""
    v = point.cert.negative_directions[:, 0]
    lam = float(v @ point.H @ v)
    a_min = np.sqrt(8.0 * run.noise_at(point.f) / abs(lam)) if lam < 0 else 0.0
    a = max(run.delta, 4.0 * a_min,
            1e3 * run.obj.f_eps * max(1.0, float(np.linalg.norm(point.x))))
    while a >= a_min:
        step = negative_curvature_step(point.g, point.H, v, a)
        for p in (step.p, step.alt):
            ft = run.trial(point.x, p)
            if ft < point.f:
                new = run.accept(point, p, ft, rho=1.0)
                run.delta, run.kind, run.strict = a, "negative_curvature", False
                return runaway(run, new, p)
        a *= 0.25
    moved = rounding_level_step(run, point)     # the model step may still decrease f
    if moved is None:
        return point, Status.ESCAPE_FAILED
    return runaway(run, moved, moved.x - point.x)


def rescale(run, point):
    """``trust_scaling="auto"``: progress stopped short of stationarity in the Euclidean
    ball -- typically a badly scaled problem (curvatures spanning many decades), where the
    ball forces steps the soft parameters cannot use. From here on the radius is
    measured in More's (1978) metric ||D p||, d_i = sqrt|H_ii| (accumulated), restarted."""
    run.scaling, run.kind = "hessian", "rescaled"
    run.delta = max(run.delta, run.opts.initial_trust_radius)
    return replace(point, d=trust_scaling("hessian", point.x, point.H), cert=None)


# -- probes ------------------------------------------------------------------------------
def _directions(cert, H):
    """The (at most MAX_PROBED) flattest flat/weak eigenvectors (smallest |v'Hv|), and the
    sum and the difference of the two flattest (a descent may need a combination: x^2 y)."""
    Z = cert.flat_directions
    curv = np.abs(np.einsum("ik,ij,jk->k", Z, H, Z))
    out = [Z[:, k] for k in np.argsort(curv)[:MAX_PROBED]]
    if len(out) >= 2:
        out += [(out[0] + out[1]) / np.sqrt(2), (out[0] - out[1]) / np.sqrt(2)]
    return out


def _curve(run, point, model, v):
    """w = -H^+ T[v, v] / 2 (:func:`curvopt.probe.parabola`), H^+ over the certified
    positive directions u_k. The components T[v, v, u_k] = d^3 f / dv^2 du_k come from
    mixed differences of f at x +- s v +- r u_k and x +- r u_k (6 values each, s = r =
    1e-2 max(1, ||x||_inf)) when that is cheaper than T[v, v] from central differences
    of two gradients at x +- s v (4n + 2 values)."""
    lam, V = np.linalg.eigh(model.H)
    keep = lam > point.cert.lam_err
    if not keep.any():
        return None
    s = 1e-2 * max(1.0, float(np.abs(point.x).max()))
    U, lam_u = V[:, keep], lam[keep]
    if 6 * U.shape[1] < 4 * run.obj.n + 2 or run.obj.has_grad:
        T_u = _mixed_third(run, point, v, U, s) if not run.obj.has_grad else None
        if T_u is not None:
            return -0.5 * (U @ (T_u / lam_u))
        if not run.obj.has_grad:
            return None
    grads = []
    for sign in (1.0, -1.0):
        y = (point.x.astype(float) + sign * s * v).astype(point.x.dtype)
        fy = run.obj.f(y)
        if not np.isfinite(fy):
            return None
        grads.append(run.gradient(y, fy).g)
    T = (grads[0] - 2.0 * point.g + grads[1]) / s ** 2
    return parabola((U / lam_u) @ U.T, T)


def _mixed_third(run, point, v, U, s):
    """T[v, v, u_k] for the columns u_k of U from 6 values of f each (None if one is not
    finite): [D2(+r) - D2(-r)] / (2 r), D2(c) = f(x + s v + c u) - 2 f(x + c u) + f(x - s v + c u)
    over s^2."""
    x64 = point.x.astype(float)
    rows = []
    for u in U.T:
        for c in (s, -s):
            rows += [x64 + s * v + c * u, x64 + c * u, x64 - s * v + c * u]
    vals = run.obj.values(np.array(rows).astype(point.x.dtype)).reshape(U.shape[1], 2, 3)
    if not np.all(np.isfinite(vals)):
        return None
    d2 = (vals[:, :, 0] - 2.0 * vals[:, :, 1] + vals[:, :, 2]) / s ** 2
    return (d2[:, 0] - d2[:, 1]) / (2.0 * s)


def look_beyond(run, point):
    """At a certified minimum, probe the shallow directions: eigenvectors of H whose
    eigenvalue only the equilibrated bound certifies positive (|lam| <= the plain Weyl
    bound: curvature tiny at the scale of the stiffest parameter). Such a basin can be a
    shallow dent in a plateau far from where the parameter has its typical size (a
    saturated sigmoid), so f is also probed out to the far grid and where the parameter
    returns to size 1 (:func:`curvopt.probe.probe_direction`). A verified lower point
    continues the run (the point returned); otherwise None: the minimum stands, on its own
    certificate. Not called where the user's gtol decided stationarity: the user asked
    to stop there."""
    cert, model = point.cert, point.full
    lam, V = np.linalg.eigh(0.5 * (model.H + model.H.T))
    shallow = np.flatnonzero(np.abs(lam) <= cert.lam_err)[:MAX_PROBED]
    tau = _tau(run, point)
    for k in shallow:
        v = V[:, k]
        res = probe_direction(run.obj, point.x, point.f, v, tau, _t_min(run, point, v))
        if res.outcome in ("descent", "unbounded"):
            run.kind, run.delta = "probe_descent", max(abs(res.t_best), run.delta)
            return run.at(res.x_best, res.f_best, point)
    return None


def _t_min(run, point, v):
    """Nearest probe distance along v: the reach of the FD stencil along v (within it,
    the certificate's location test already decided)."""
    step = point.full.step
    if step is not None:
        return float(np.abs(v) @ step)
    return run.obj.f_eps ** 0.25 * max(1.0, float(np.abs(point.x).max()))


def _moved(run, point, res):
    """(point, status) for a probe that found lower f: "unbounded" ends the run
    (NO_FINITE_MINIMIZER), "descent" continues from the lowest verified probe; else None."""
    if res.outcome == "unbounded":
        run.ray = res
        return point, Status.NO_FINITE_MINIMIZER
    if res.outcome == "descent":
        run.kind, run.delta = "probe_descent", max(abs(res.t_best), run.delta)
        return run.at(res.x_best, res.f_best, point), None
    return None


def _tau(run, point):
    return max(point.cert.resolution, RESOLUTION_K * run.obj.f_eps * abs(point.f))


def probe_open(run, point):
    """Inconclusive stationarity (a gradient along a direction whose curvature H cannot
    decide): probe f along the open directions (straight and curved, both signs, out to
    the far grid). Lower f continues the run (or ends it unbounded); otherwise None."""
    model = point.full
    for v in _directions(point.cert, model.H):
        res = probe_direction(run.obj, point.x, point.f, v, _tau(run, point),
                              _t_min(run, point, v),
                              curve=lambda v=v: _curve(run, point, model, v))
        moved = _moved(run, point, res)
        if moved is not None:
            return moved
    return None


def resolve_flat(run, point):
    """Probe the directions the certificate could not decide (see the module docstring)."""
    cert, obj, model = point.cert, run.obj, point.full
    tau = _tau(run, point)
    outcomes, t_far = [], 0.0
    for v in _directions(cert, model.H):
        res = probe_direction(obj, point.x, point.f, v, tau, _t_min(run, point, v),
                              curve=lambda v=v: _curve(run, point, model, v))
        moved = _moved(run, point, res)
        if moved is not None:
            return moved
        outcomes.append(res.outcome)
        t_far = max(t_far, res.t_far)
    if "unknown" in outcomes:
        evidence = ("f is not finite on one side of x along a flat direction (at every "
                    "probed distance): x is at the edge of f's domain, where no minimum "
                    "is certified")
        new_cert = replace(cert, classification="inconclusive", is_minimum=False,
                           inconclusive=evidence, evidence=evidence)
        return replace(point, cert=new_cert), Status.INCONCLUSIVE
    curved = all(o == "curved" for o in outcomes)
    evidence = (f"probes of f along {len(outcomes)} of the {cert.flat_directions.shape[1]} "
                f"flat direction(s) and combinations (both signs, out to "
                f"{t_far:.3g}): no decrease beyond {tau:.3g}; "
                + ("f rises quadratically along each: positive curvature resolved by f"
                   if curved else "along some, f is flat within its noise or rises, but not "
                   "quadratically, also along curved paths"))
    new_cert = replace(cert, classification="minimum" if curved else "degenerate",
                       is_minimum=curved, evidence=evidence,
                       flat_parameters=() if curved else cert.flat_parameters)
    status = Status.MINIMUM if curved else Status.DEGENERATE_MINIMUM
    return replace(point, cert=new_cert), status


def runaway(run, point, p):
    """After an accepted step: probe f along that step when x or f ran away (||x|| grew
    tenfold since the last check, or f fell a hundredfold); the step, not the whole
    displacement, so that coordinates that converged meanwhile do not bend the ray.

    The run also ends as NO_FINITE_MINIMIZER when f fell along the run since the last
    check and is constant (within its resolution) everywhere ahead: an asymptote below
    the rounding level of f (e^-t); and, the divergence guard along curved paths (a
    straight probe cannot see f fall along a parabola), after ``FALLS`` consecutive
    checks at which f fell a hundredfold below a negative value."""
    xa, fa = run.anchor
    dx = point.x.astype(float) - xa.astype(float)
    grown = np.linalg.norm(dx) >= GROWTH_X * max(1.0, float(np.linalg.norm(xa)))
    fallen = point.f < fa - GROWTH_F * max(1.0, abs(fa))
    if not (grown or fallen) or not np.linalg.norm(dx) > 0:
        return point, None
    run.anchor = (point.x.copy(), point.f)
    run.falls = run.falls + 1 if (fallen and point.f < 0) else 0
    tau = run.resolution(point.f)
    d = _ray(point, p if np.linalg.norm(p) > 0 else dx)
    res = probe_ray(run.obj, point.x, point.f, d, tau, 0.5 * float(np.linalg.norm(p)))
    came_down = fa - point.f > tau
    basis = ("unbounded" if res.outcome == "unbounded" else
             "path" if run.falls >= FALLS else
             "asymptote" if res.outcome == "flat" and came_down else None)
    if basis is not None:
        run.ray = replace(res, outcome=basis)
        return point, Status.NO_FINITE_MINIMIZER
    if res.outcome == "descent":
        run.kind = "probe_descent"
        new = run.at(res.x_best, res.f_best, point)
        run.anchor = (new.x.copy(), new.f)
        return new, None
    return point, None


def _ray(point, p):
    """The direction to probe for a runaway step p: its part along the weakly curved
    eigenvectors of the model (lam <= 1e-3 max|lam|) when that is most of p. Coordinates
    that converged leave tiny components in p (~1e-9) that a probe 1e9 away would turn
    into O(1) moves, bending f up along an otherwise diverging ray."""
    eig = point.eig
    if eig is None:
        return p
    lam, V = eig
    weak = np.abs(lam) <= 1e-3 * float(np.max(np.abs(lam)))
    d = V[:, weak] @ (V[:, weak].T @ p)
    d = d if np.linalg.norm(d) >= 0.5 * np.linalg.norm(p) else p
    return np.where(np.abs(d) >= 1e-8 * np.abs(d).max(), d, 0.0)   # rounding-level parts


def final_certificate(run, point):
    """A certificate at the point where a budget ended the run, if it can be afforded."""
    try:
        point, _ = run.certify(point)
    except (BudgetExhausted, NonFiniteError, KeyboardInterrupt):
        pass
    return point
