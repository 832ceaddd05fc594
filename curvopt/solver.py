"""Saddle-aware trust-region Newton loop that stops only on a certificate.

One loop, composed (like optimistix) of a *descent* -- the step from the trust-region
subproblem solved in the eigenbasis of H (:mod:`curvopt.subproblem`) -- and a *search*:
the ratio test rho = ared / pred, pred = -(g'p + p'Hp/2), and the radius update of
Nocedal & Wright (2006) Alg. 4.1 with constants

    eta = 0.15: accept when rho > eta (scipy's trust-region default; N&W: eta in [0, 1/4))
    rho < 1/4  -> delta = ||p|| / 4  (N&W Alg. 4.1 shrinks delta by 1/4; Optim.jl ||p||/4)
    rho > 3/4 and ||p|| = delta -> delta = min(2 delta, max_trust_radius)  (N&W Alg. 4.1)

A non-finite trial value is a rejected step. A rejected step reuses the model.

Hessian policy (evaluation economy). With function values only an FD Hessian costs
2n^2 + 1 evaluations, a central gradient 2n, a forward one n. The loop estimates the
noise of f once at x0 (ECnoise, :func:`curvopt.noise.noise_level`, option ``noise``), so
FD steps fit float32 or noisy objectives, and builds an FD model
(``local_model(errors=False)``) at x0; after each accepted step it takes only a gradient --
forward differences far from stationarity, central otherwise (:mod:`curvopt._secant`) --
and updates H by the symmetric rank-one formula (SR1, N&W eq. 6.24), which unlike BFGS can
represent negative curvature. A negative eigenvalue of the SR1 estimate is checked by a
second difference of f along its eigenvector (2 evaluations) and H corrected to the
measured curvature (:func:`curvopt._secant.confirm_curvature`). The FD Hessian is rebuilt
(reusing f(x)) when a step is accepted with rho < 1/4 while H is an SR1 estimate, and at
the second consecutive rejection at a point, where a forward or stencil gradient is also
replaced by a central one (a stencil g read at ~2 eps^(1/4) can have the wrong sign on
exponential fits such as Osborne 1); and at certification (full model with error bounds).
With a user ``hess`` the exact Hessian is used at every accepted point;
``hessian_update='fd'`` rebuilds the FD Hessian at every accepted point (after a central
gradient there). Option ``trust_scaling`` replaces the ball by the ellipsoid
||D p|| <= delta (N&W sec. 4.5). The primitives live in :mod:`curvopt._loop`.

Steps from f itself (Gill, Murray, Saunders & Wright 1983). Where the cheap FD model is
built at a point that already has the loop's central gradient, the two central
differences (the stencil's at 2h, the loop's at its step) give the third derivatives t_i
along the axes, and later central gradients take per coordinate the truncation-optimal
step (3 sigma / |t_i|)^(1/3), no smaller than needed for a truncation of 1/10 of the
stationarity test and within [1e-2, 1] times the default eps_f^(1/3) max(1, |x_i|)
(:func:`curvopt.model.gradient_steps`; the certificate's gradient uses them with the
noise it measures). FD Hessian steps are capped so that the stencil's widest points
raise f by at most max(1, |f|) (:func:`curvopt._loop.hessian_steps`): one stiff coordinate
would otherwise lift the rounding floor f_eps max|f| of every bound. On Meyer (MGH 10,
x2 ~ 6e3, cond(H) ~ 1e16) the default steps left gradient errors ~100x what the valley
and the certificate need. A certification at the point of the last cheap model reuses
its stencil (2n^2 evaluations saved).

Termination only on the certificate. When the model looks stationary -- ||g|| <= gtol
max(1, |f|) / 10, or the predicted reduction is below the noise of f, or the radius fell
to the rounding level of x -- the full model is built and certified
(:func:`curvopt.certificate.certify`). A minimum (or a degenerate point with no certified
negative curvature, once no measurable progress is left) ends the run with success.
Certified negative curvature found through the gradient shortcut switches to "strict"
mode: the loop goes on from the fresh model (whose trust-region step itself exploits the
negative curvature) and certifies again only when progress stops; certified negative
curvature there triggers an explicit step along the most negative eigenvector, both signs,
shrunk by 4 until f decreases. A "not stationary" certificate restarts from the fresh
model; the same point certified twice without progress stops with the certificate's
verdict. A rounding-level reduction near the optimum is not a failure: where the point is
certified not stationary (or inconclusive) but the model predicts a decrease below the
noise of f, the model step (Jacobi-scaled), then the 1-D Newton step along the largest
gradient component, are still tried and judged by f when f sees the decrease, else by
the gradient at the trial point (:func:`_rounding_level_step`). Budgets (maxiter, default
500 n in :mod:`curvopt._minimize`; maxfev) end the run with an honest status.

The damped (Levenberg-Marquardt) form of the step is used only when ``eigh`` fails or H
is not finite.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt._loop import (ETA_LOW, LoopState, accept, gradient, load_model, noise_of,
                           refresh, hessian_steps, tr_step, trial)
from curvopt._secant import confirm_curvature, curvature_class, sr1, trust_scaling
from curvopt._status import Iterate, SolverOptions, Status
from curvopt.certificate import certify
from curvopt.model import local_model
from curvopt.noise import noise_level
from curvopt.objective import BudgetExhausted, NonFiniteError
from curvopt.subproblem import negative_curvature_step

__all__ = ["SolverOptions", "Iterate", "SolverResult", "solve"]

ETA_HIGH, SHRINK, GROW = 0.75, 0.25, 2.0   # N&W (2006) Alg. 4.1 (ETA_LOW = 0.25)


@dataclass(frozen=True)
class SolverResult:
    """What the loop returns to the public API."""

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    nit: int
    status: Status
    certificate: object


def _certify(obj, st, opts):
    """Full model with error bounds at x (whose g local_model sharpens with a central
    gradient at the steps of :func:`curvopt.model.gradient_steps`), and its certificate.
    Where the last cheap model was built at this x its stencil is reused (2n^2
    evaluations saved; local_model checks x and f)."""
    model = local_model(obj, st.x, f0=st.f, errors=True, step=hessian_steps(obj, st, opts),
                        grad_pair=st.pair, reuse=st.model)
    load_model(st, model, opts)
    st.cert = certify(model, gtol=opts.gtol, names=opts.names)
    return st.cert


def _escape(obj, st, cert):
    """Step along the most negative certified direction; both signs, shrinking by 4 down
    to the length whose model decrease |lam| a^2 / 2 clears the noise of f."""
    v = cert.negative_directions[:, 0]
    lam = float(v @ st.H @ v)
    a_min = np.sqrt(8.0 * noise_of(obj, st) / abs(lam)) if lam < 0 else 0.0
    a = max(st.delta, 4.0 * a_min, 1e3 * obj.f_eps * max(1.0, float(np.linalg.norm(st.x))))
    while a >= a_min:
        step = negative_curvature_step(st.g, st.H, v, a)
        for p in (step.p, step.alt):
            ft = trial(obj, st.x, p)
            if ft < st.f:
                return p, ft, a
        a *= SHRINK
    return None, None, a


def _verdict(cert, opts):
    """Status for a certificate reached where no progress is left."""
    cls = cert.classification
    if cls == "minimum":
        strict = cert.lam_min - cert.lam_err > opts.ctol
        return Status.MINIMUM if strict else Status.DEGENERATE_MINIMUM
    if cls == "degenerate" and cert.negative_directions.shape[1] == 0:
        return Status.DEGENERATE_MINIMUM
    return Status.NOT_STATIONARY if cls == "not_stationary" else Status.INCONCLUSIVE


def _looks_stationary(obj, st, step, opts):
    """Why the cheap model says "stationary at this precision", or None.

    "gtol": ||g|| <= gtol max(1, |f|) / 10, a shortcut skipped in strict mode. "noise": the
    predicted reduction is below the noise of f (plus, where g carries a certified bound,
    the uncertainty ||g_err|| ||p|| of g'p), or the radius fell to the rounding level of
    x: no measurable progress is left.
    """
    pred_floor = 2.0 * noise_of(obj, st)
    if st.cert is not None:
        pred_floor += st.g_tol * float(np.linalg.norm(step.p))
    tiny_radius = st.delta <= 4 * obj.f_eps * max(1.0, float(np.linalg.norm(st.x)))
    if step.predicted_reduction <= pred_floor or tiny_radius:
        return "noise"
    if not st.strict and np.linalg.norm(st.g) <= 0.1 * opts.gtol * max(1.0, abs(st.f)):
        return "gtol"
    return None


def _at_stationary_looking_point(obj, st, opts, reason):
    """Certify (once per point), go strict, escape negative curvature; Status or None."""
    fresh = st.cert is None
    cert = _certify(obj, st, opts) if fresh else st.cert
    cls, neg = cert.classification, cert.negative_directions.shape[1] > 0
    shortcut = fresh and reason == "gtol"
    if cls == "minimum" or (cls == "degenerate" and not neg and not shortcut):
        return _verdict(cert, opts)
    if shortcut and (neg or cls == "degenerate"):
        st.strict, st.kind = True, "certified_" + cls
        return None
    if neg:
        p, ft, a = _escape(obj, st, cert)
        if p is None:             # the model step may still decrease f (near a manifold)
            return None if _rounding_level_step(obj, st, opts) else Status.ESCAPE_FAILED
        accept(obj, st, p, ft, opts, rho=1.0)
        st.delta, st.kind, st.strict = a, "negative_curvature", False
        return None
    if (cls in ("not_stationary", "inconclusive") and reason == "noise"
            and _rounding_level_step(obj, st, opts)):
        return None
    if fresh:                        # continue from the fresh, accurate model: restart
        st.kind = "certified_" + cls                     # the radius
        st.delta = max(st.delta, opts.initial_trust_radius)
        return None
    return _verdict(cert, opts)


def _rounding_level_step(obj, st, opts):
    """Try the model step where the loop's precision test says "no progress"; True if
    taken (the point was certified not stationary or inconclusive).

    The test compares the predicted reduction with the noise of f plus the uncertainty
    ||g_err|| ||p|| of g'p; near the optimum of a function with large |f| (a
    log-likelihood: pred = g'H^-1 g / 2 ~ 1e-12 on f ~ 1e3) or with a coarse FD gradient
    (float32 arithmetic) real progress may remain. The step (radius restarted; solved
    with the Jacobi scaling d_i = sqrt|H_ii|, since the eigenvectors of a badly scaled H
    are too coarse at this level) is taken when f decreases by more than twice its
    noise (progress f itself can see), or, for a positive definite model, when f does not
    rise above its noise and the gradient at the trial point, central differences or the
    user's, is at most half the current one beyond its error: ||g+|| + e+ <= ||g|| / 2
    (the Newton step converges quadratically, N&W 2006 Thm. 3.5). Failing that, the 1-D
    Newton step -g_i / H_ii along the coordinate with the largest |g_i| (the test is on
    ||g||; H_ii > 0) is tried by the same tests (it needs no eigenvectors: on Meyer,
    cond(H) ~ 1e16, ||g|| ~ 4e-3 is x1 a few ulps off the valley floor). Each taken
    step decreases f or halves ||g||, so this cannot cycle.
    """
    st.delta = max(st.delta, opts.initial_trust_radius)
    d = st.d
    if d is None:
        st.d = trust_scaling("hessian", st.x, st.H)
    step, lam_min = tr_step(st, obj.f_eps)
    st.d = d
    return (_try_rounding_level(obj, st, opts, step.p, lam_min > 0)
            or _try_rounding_level(obj, st, opts, _coordinate_step(st), True))


def _coordinate_step(st):
    """-g_i / H_ii e_i for the i (H_ii > 0) maximizing |g_i|, or None."""
    dH = np.diag(st.H)
    ok = np.isfinite(dH) & (dH > 0)
    if not np.any(ok):
        return None
    i = int(np.argmax(np.where(ok, np.abs(st.g), -1.0)))
    p = np.zeros(st.g.shape)
    p[i] = -st.g[i] / dH[i]
    return p


def _try_rounding_level(obj, st, opts, p, convex):
    """Take step p if f decreases beyond its noise, or (``convex``) f does not rise
    beyond it and the gradient halves beyond its error; True if taken."""
    if p is None or not np.all(np.isfinite(p)):
        return False
    x_new = (st.x + p).astype(st.x.dtype)
    if np.array_equal(x_new, st.x):
        return False
    ft = trial(obj, st.x, p)
    if st.f - ft > 2.0 * noise_of(obj, st):
        accept(obj, st, p, ft, opts, rho=1.0)
        st.kind = "rounding_level"
        return True
    if not (convex and ft <= st.f + 2.0 * noise_of(obj, st)):
        return False
    g_step = st.g_step
    g_new, g_tol, _ = gradient(obj, st, opts, x_new, ft)
    if not np.linalg.norm(g_new) + g_tol <= 0.5 * float(np.linalg.norm(st.g)):
        st.g_step = g_step
        return False
    s = x_new.astype(float) - st.x.astype(float)
    st.H, st.fresh = sr1(st.H, s, g_new - st.g), False
    st.x, st.f, st.g, st.g_tol, st.g_at_x, st.cert = x_new, ft, g_new, g_tol, True, None
    st.kind, st.rejects = "rounding_level", 0
    return True


def _iterate(obj, st, opts):
    """One iteration: step, ratio test, radius update, accept or reject; Status or None."""
    step, lam_min = tr_step(st, obj.f_eps)
    if not st.fresh and lam_min < 0:             # SR1 suspects negative curvature: check
        H = confirm_curvature(obj, st.x, st.f, st.H)
        if H is None:
            refresh(obj, st, opts)
        else:
            st.H = H
        step, lam_min = tr_step(st, obj.f_eps)
    st.lam_min = lam_min
    reason = _looks_stationary(obj, st, step, opts)
    if reason is not None:
        return _at_stationary_looking_point(obj, st, opts, reason)
    pred, p = step.predicted_reduction, step.p    # pred > 2 noise >= 0 here
    ft = trial(obj, st.x, p)
    if (st.f - ft) <= opts.eta * pred and step.alt is not None:   # both signs (hard case)
        ft_alt = trial(obj, st.x, step.alt)
        if ft_alt < ft:
            p, ft = step.alt, ft_alt
    rho = (st.f - ft) / pred
    norm_p = float(np.linalg.norm(p if st.d is None else st.d * p))
    if rho < ETA_LOW:
        st.delta = SHRINK * norm_p
    elif rho > ETA_HIGH and norm_p >= (1 - 1e-6) * st.delta:
        st.delta = min(GROW * st.delta, opts.max_trust_radius)
    if rho > opts.eta:
        if st.f - ft > opts.gtol * max(1.0, abs(st.f)):
            st.strict = False                    # left the stationary region
        accept(obj, st, p, ft, opts, rho)
        st.kind = step.kind
    else:
        st.kind, st.rejects = step.kind + "_rejected", st.rejects + 1
        if not st.g_at_x and st.rejects >= 2:    # forward or stencil g: sharpen it
            st.g, st.g_tol, st.g_at_x = gradient(obj, st, opts, st.x, st.f)
        if not st.fresh and st.rejects >= 2:     # the SR1 model failed twice: rebuild
            refresh(obj, st, opts)
    return None


def _row(st, nit):
    return Iterate(nit, st.x.copy(), st.f, float(np.linalg.norm(st.g)), st.lam_min, st.delta,
                   st.kind, st.cert.classification if st.cert is not None else None,
                   st.curvature)


def solve(obj, opts, report=None):
    """Run the trust-region loop on an :class:`~curvopt.objective.Objective`.

    Parameters
    ----------
    obj : Objective
    opts : SolverOptions
    report : callable, optional
        ``report(row, final)`` with an :class:`Iterate` for x0 (nit 0) and after each
        iteration, ``final`` True for the last one. History, log and user callback live
        in the API layer; ``StopIteration`` raised by ``report`` ends the run (status 99).

    Returns
    -------
    SolverResult (ValueError when f(x0) is not finite)
    """
    x0 = obj.x0.copy()
    f0 = obj.f(x0)
    if not np.isfinite(f0):
        raise ValueError(f"f(x0) = {f0} is not finite at x0 = {x0}")
    n = x0.shape[0]
    st = LoopState(x=x0, f=f0, g=np.zeros(n), H=np.eye(n), delta=float(opts.initial_trust_radius))
    report = report if report is not None else (lambda row, final: None)
    status, nit = None, 0
    try:
        if opts.noise and not obj.has_grad:          # ECnoise once: steps for float32 or
            noise_level(obj, x0, f0=f0)               # noisy f (stored on obj.noise)
        refresh(obj, st, opts)
        if np.all(np.isfinite(st.H)):
            lam = np.linalg.eigvalsh(st.H)
            st.lam_min, st.curvature = float(lam[0]), curvature_class(lam, obj.f_eps)
        report(_row(st, 0), False)
        while status is None:
            if nit >= opts.maxiter:
                status = Status.MAXITER
                break
            nit += 1
            status = _iterate(obj, st, opts)
            report(_row(st, nit), status is not None)
    except BudgetExhausted:
        status = Status.MAXFEV
    except StopIteration:
        status = Status.CALLBACK_STOP
    except NonFiniteError:              # f not finite at stencil points around x
        status = Status.NONFINITE
    if status == Status.MAXITER and st.cert is None:
        try:
            _certify(obj, st, opts)
        except BudgetExhausted:
            pass
    return SolverResult(st.x, st.f, st.g, st.H, nit, status, st.cert)
