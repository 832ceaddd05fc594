"""Saddle-aware trust-region Newton loop that stops only on a certificate.

One loop, composed (like optimistix) of a *descent* -- the step from the trust-region
subproblem solved in the eigenbasis of H (:mod:`curvopt.subproblem`) -- and a *search*:
the ratio test rho = ared / pred, pred = -(g'p + p'Hp/2), and the radius update of
Nocedal & Wright (2006) Alg. 4.1 with constants

    eta  = 0.15  accept when rho > eta (scipy's trust-region default; N&W: eta in [0, 1/4))
    rho < 1/4  -> delta = ||p|| / 4  (N&W Alg. 4.1 shrinks delta by 1/4; Optim.jl uses ||p||/4)
    rho > 3/4 and ||p|| = delta -> delta = min(2 delta, max_trust_radius)  (N&W Alg. 4.1)

A non-finite trial value is a rejected step (rho = -inf). A rejected step reuses the model.

Hessian policy (evaluation economy). With function values only, a finite-difference (FD)
Hessian costs 2n^2 + 1 evaluations and a central gradient 2n. The loop builds an FD model
(``local_model(errors=False)``, g from the same stencil) at x0, then after each accepted step
evaluates only a gradient -- forward differences (n evaluations) while ||g|| > sqrt(gtol)
max(1, |f|) and the forward error is below 1% of ||g||, central (2n) otherwise -- and updates H by the symmetric rank-one formula (SR1,
N&W eq. 6.24, skipped when |s'(y - Hs)| < 1e-8 ||s|| ||y - Hs||, eq. 6.26), which, unlike
BFGS, can represent negative curvature. The FD Hessian is rebuilt (reusing f(x)) when

* a step is rejected or accepted with rho < 1/4 while H is an SR1 estimate (poor model),
* the SR1 estimate has a negative eigenvalue (suspected indefinite: confirm by FD),
* the model "looks stationary" (certification builds the full model with error bounds).

With user ``hess`` the exact Hessian is used at every accepted point; with ``hessian_update
='fd'`` the FD Hessian is rebuilt at every accepted point.

Termination only on the certificate. When the model looks stationary -- ||g|| <= gtol
max(1, |f|), or the predicted reduction of the trust-region step is below the noise of f,
or the radius fell to the rounding level of x -- the full model (``errors=True``) is built
and certified (:func:`curvopt.certificate.certify`). A minimum (or a degenerate point with
no certified negative curvature) ends the run with success. Certified negative curvature
(saddle, maximum) triggers a step along the most negative eigenvector, both signs tried,
length from max(delta, the length whose model decrease clears the noise), shrunk by 4
until f decreases. Otherwise the run continues from the fresh model, and stops with the
certificate's verdict when the same point is certified twice without progress. Budgets
(maxiter, maxfev) end the run with an honest status.

Indefinite H in the ordinary iteration is handled by the subproblem itself (boundary step
with mu > -lam_1; in the hard case both signs along v_1 are tried). The damped (Levenberg-
Marquardt) form is used only when ``eigh`` fails or H is not finite.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from curvopt._status import Status
from curvopt.certificate import certify
from curvopt.model import local_model
from curvopt.objective import BudgetExhausted
from curvopt.subproblem import (damped_trust_region_step, negative_curvature_step,
                                solve_trust_region)

__all__ = ["SolverOptions", "Iterate", "SolverResult", "solve"]

ETA_LOW, ETA_HIGH, SHRINK, GROW = 0.25, 0.75, 0.25, 2.0   # N&W (2006) Alg. 4.1
SR1_SKIP = 1e-8                                           # N&W (2006) eq. 6.26
SAFETY = 3.0                  # safety factor on Richardson truncation estimates


@dataclass(frozen=True)
class SolverOptions:
    """Options of the loop (see :func:`curvopt._minimize.minimize` for the user view)."""

    gtol: float = 1e-5
    maxiter: int = 200
    initial_trust_radius: float = 1.0
    max_trust_radius: float = float("inf")
    eta: float = 0.15
    ctol: float = 0.0
    hessian_update: str = "sr1"
    fd_step: object = None
    disp: bool = False
    keep_history: bool = False
    return_all: bool = False


@dataclass(frozen=True)
class Iterate:
    """One row of the history: the iterate after an iteration."""

    nit: int
    x: np.ndarray
    f: float
    grad_norm: float
    lam_min: float
    delta: float
    kind: str
    classification: str | None


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
    history: tuple = ()
    allvecs: tuple = ()


@dataclass
class _State:
    """Mutable loop state (internal)."""

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    g_tol: float
    delta: float
    fresh: bool = True            # H is an FD / exact Hessian at x (not an SR1 estimate)
    f_noise: float = 0.0
    cert: object = None           # certificate at x, if any
    kind: str = "start"
    lam_min: float = float("nan")
    g_at_x: bool = False          # g is a central-difference or user gradient at this x
    strict: bool = False          # gtol shortcut off: certify only when progress stops
    last_cls: str | None = None
    history: list = field(default_factory=list)
    allvecs: list = field(default_factory=list)


def _noise(obj, st):
    """Absolute noise level of f at x: the model's estimate or rounding of f."""
    return max(st.f_noise, obj.f_eps * abs(st.f))


def _central(obj, x, f, h):
    """Central differences at representable steps ~h (2n evaluations); one-sided where
    one side is not finite. Returns (g, h, fmax)."""
    xp = (x + h.astype(x.dtype)).astype(x.dtype)
    h = xp.astype(np.float64) - x.astype(np.float64)          # representable step
    xm = (x - h.astype(x.dtype)).astype(x.dtype)
    fp, fm = (np.asarray(v, float) for v in obj.axis_values(x, xp, xm))
    g = (fp - fm) / (2.0 * h)
    one_p, one_m = ~np.isfinite(fm) & np.isfinite(fp), ~np.isfinite(fp) & np.isfinite(fm)
    g[one_p] = (fp[one_p] - f) / h[one_p]
    g[one_m] = (f - fm[one_m]) / h[one_m]
    return g, h, float(np.nanmax(np.abs(np.concatenate([[f], fp, fm]))))


def _rel_noise(obj, f, f_noise=0.0):
    return max(obj.f_eps, f_noise / max(1.0, abs(f)))


def _fd_gradient(obj, x, f, f_noise=0.0, richardson=False):
    """Central gradient at h = eps_f^(1/3) max(1, |x_i|) (N&W 2006 eq. 8.9 step rule) and
    an error norm: rounding eps_f max|f| / h, plus with ``richardson`` the truncation
    estimate |D_h - D_2h| / 3 (second step, 2n more evaluations)."""
    rel = _rel_noise(obj, f, f_noise)
    h = rel ** (1.0 / 3.0) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    g, h, fmax = _central(obj, x, f, h)
    err = 2.0 * rel * fmax / h
    if richardson:
        g2, _, fmax2 = _central(obj, x, f, 2.0 * h)
        # D_h - D_2h = -3 h^2 f'''/6 + ...: truncation |D_h - D_2h| / 3, safety factor 3
        err = SAFETY * np.abs(g - g2) / 3.0 + 2.0 * rel * max(fmax, fmax2) / h
    return g, err


def _forward_gradient(obj, x, f):
    """Forward differences at h = sqrt(eps_f) max(1, |x_i|) (n evaluations, error of order
    sqrt(eps_f)): cheap enough far from stationarity (Gill, Murray & Wright 1981,
    Practical Optimization, sec. 8.6). None when a forward point is not finite."""
    rel = _rel_noise(obj, f)
    h = np.sqrt(rel) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    xp = (x + h.astype(x.dtype)).astype(x.dtype)
    h = xp.astype(np.float64) - x.astype(np.float64)          # representable step
    X = np.repeat(x[None, :], x.size, axis=0)
    X[np.arange(x.size), np.arange(x.size)] = xp
    fp = np.asarray(obj.f_many(X), float)
    if not np.all(np.isfinite(fp)):
        return None
    return (fp - f) / h, float(np.linalg.norm(2.0 * rel * max(abs(f), np.abs(fp).max()) / h))


def _far(obj, st, opts):
    """Forward differences suffice: ||g|| > sqrt(gtol) max(1, |f|) and the forward error
    h |H_ii| / 2 + 2 eps_f |f| / h (from the current model's curvature) is below 1% of
    ||g|| (rounding plus truncation, N&W 2006 eq. 8.3-8.4)."""
    if obj.has_grad:
        return False
    gnorm = float(np.linalg.norm(st.g))
    rel = _rel_noise(obj, st.f)
    h = np.sqrt(rel) * np.maximum(1.0, np.abs(st.x.astype(np.float64)))
    err = float(np.linalg.norm(h * np.abs(np.diag(st.H)) / 2 + 2 * rel * abs(st.f) / h))
    return gnorm > np.sqrt(opts.gtol) * max(1.0, abs(st.f)) and err < 0.01 * gnorm


def _gradient(obj, x, f, far=False):
    """(g, g_tol, accurate): the user gradient; else forward differences when ``far``
    from stationarity, central differences otherwise (and where a forward point is not
    finite). ``accurate`` is False for the forward estimate."""
    if far and not obj.has_grad:
        out = _forward_gradient(obj, x, f)
        if out is not None:
            return out[0], out[1], False
    if obj.has_grad:
        g = obj.grad(x)
        return g, 10 * obj.f_eps * float(np.linalg.norm(g)), True
    g, err = _fd_gradient(obj, x, f)
    return g, float(np.linalg.norm(err)), True


def _sr1(H, s, y):
    """Symmetric rank-one update, N&W (2006) eq. 6.24 with the skip rule eq. 6.26."""
    r = y - H @ s
    denom = float(r @ s)
    if abs(denom) < SR1_SKIP * np.linalg.norm(s) * np.linalg.norm(r) or denom == 0:
        return H
    return H + np.outer(r, r) / denom


def _load_model(st, model):
    st.g, st.H, st.fresh = np.asarray(model.g, float), np.asarray(model.H, float), True
    g_err = np.asarray(model.g_err, float)
    if np.all(np.isfinite(g_err)):
        st.g_tol = float(np.linalg.norm(g_err))
    if np.isfinite(model.f_noise):
        st.f_noise = float(model.f_noise)


def _refresh(obj, st, opts):
    """Cheap FD model at x (f reused). Where a central-difference gradient was already
    taken at this x, it is kept: the stencil reads g off points ~2 eps^(1/4) away, a
    coarser estimate (in float32 arithmetic, far coarser)."""
    g, g_tol, keep = st.g, st.g_tol, st.g_at_x
    _load_model(st, local_model(obj, st.x, f0=st.f, errors=False, step=opts.fd_step))
    if keep:
        st.g, st.g_tol = g, g_tol


def _step(st):
    """The trust-region step at the current model (eigen path, damped fallback)."""
    try:
        if not np.all(np.isfinite(st.H)):
            raise np.linalg.LinAlgError("H not finite")
        lam, V = np.linalg.eigh(st.H)
    except np.linalg.LinAlgError:
        return damped_trust_region_step(st.g, st.H, st.delta), np.nan
    return solve_trust_region(st.g, lam, V, st.delta, g_tol=st.g_tol), float(lam[0])


def _trial(obj, x, p):
    """f(x + p); a non-finite value is returned as +inf (a rejected step)."""
    ft = obj.f((x + p).astype(x.dtype))
    return ft if np.isfinite(ft) else np.inf


def _accept(obj, st, p, f_new, opts, rho):
    """Move to x + p: new gradient, SR1 or FD Hessian, as the policy says."""
    x_new = (st.x + p).astype(st.x.dtype)
    s = x_new.astype(float) - st.x.astype(float)
    st.x, st.f, st.cert, st.g_at_x = x_new, f_new, None, False
    if obj.has_hess or opts.hessian_update == "fd" or rho < ETA_LOW:
        _refresh(obj, st, opts)
        return
    g_new, st.g_tol, st.g_at_x = _gradient(obj, st.x, st.f, _far(obj, st, opts))
    st.H = _sr1(st.H, s, g_new - st.g)
    st.g, st.fresh = g_new, False


def _sharper_gradient(obj, model):
    """Replace the model's g by a central gradient at the gradient's own step eps^(1/3)
    with its Richardson bound (4n evaluations) when that bound is smaller: the Hessian
    stencil reads g off points ~eps^(1/4) away, too coarse to certify stationarity."""
    if obj.has_grad:
        return model
    g, g_err = _fd_gradient(obj, model.x.astype(obj.dtype), model.f, model.f_noise, True)
    if np.all(np.isfinite(g_err)) and np.linalg.norm(g_err) < np.linalg.norm(model.g_err):
        return replace(model, g=g, g_err=g_err, nfev=model.nfev + 4 * obj.n)
    return model


def _certify(obj, st, opts):
    """Full model with error bounds at x, and its certificate."""
    model = _sharper_gradient(obj, local_model(obj, st.x, f0=st.f, errors=True,
                                               step=opts.fd_step))
    _load_model(st, model)
    cert = certify(model, gtol=opts.gtol)
    st.cert, st.last_cls = cert, cert.classification
    return cert


def _escape(obj, st, cert):
    """Step along the most negative certified direction; both signs, shrinking by 4."""
    v = cert.negative_directions[:, 0]
    lam = float(v @ st.H @ v)
    a_min = np.sqrt(8.0 * _noise(obj, st) / abs(lam)) if lam < 0 else 0.0
    a = max(st.delta, 4.0 * a_min, 1e3 * obj.f_eps * max(1.0, float(np.linalg.norm(st.x))))
    while a >= a_min:
        step = negative_curvature_step(st.g, st.H, v, a)
        for p in (step.p, step.alt):
            ft = _trial(obj, st.x, p)
            if ft < st.f:
                return p, ft, a
        a *= SHRINK
    return None, None, a


def _verdict(cert, opts):
    """Status for a certificate reached at a point where no progress is left."""
    if cert.classification == "minimum":
        if cert.lam_min - cert.lam_err > opts.ctol:
            return Status.MINIMUM
        return Status.DEGENERATE_MINIMUM
    if cert.classification == "degenerate" and cert.negative_directions.shape[1] == 0:
        return Status.DEGENERATE_MINIMUM
    if cert.classification == "not_stationary":
        return Status.NOT_STATIONARY
    return Status.INCONCLUSIVE


def _looks_stationary(obj, st, step, opts):
    """Why the cheap model says "stationary at this precision" ("gtol", "noise"), or None.

    "gtol": ||g|| <= gtol max(1, |f|) / 10, a shortcut skipped in strict mode (after a
    certificate found curvature that is not certified positive). "noise": the predicted
    reduction is below the noise of f (plus, where g carries a certified bound, the
    uncertainty ||g_err|| ||p|| of g'p), or the radius fell to the rounding level of x:
    no measurable progress is left.
    """
    pred_floor = 2.0 * _noise(obj, st)
    if st.cert is not None:          # g carries a certified bound: pred's uncertainty
        pred_floor += st.g_tol * float(np.linalg.norm(step.p))
    tiny_radius = st.delta <= 4 * obj.f_eps * max(1.0, float(np.linalg.norm(st.x)))
    if step.predicted_reduction <= pred_floor or tiny_radius:
        return "noise"
    if not st.strict and np.linalg.norm(st.g) <= 0.1 * opts.gtol * max(1.0, abs(st.f)):
        return "gtol"
    return None


def _at_stationary_looking_point(obj, st, opts, reason):
    """Certify (once per point), escape negative curvature; a final Status or None.

    A certificate reached through the "gtol" shortcut that is not a strict minimum
    switches to strict mode: the loop goes on from the fresh model (whose trust-region
    step itself exploits negative curvature) until no measurable progress is left, so a
    degenerate verdict or an explicit escape is made only where f cannot be lowered.
    """
    fresh = st.cert is None
    cert = _certify(obj, st, opts) if fresh else st.cert
    cls, neg = cert.classification, cert.negative_directions.shape[1] > 0
    if cls == "minimum" or (cls == "degenerate" and not neg and not (fresh and reason == "gtol")):
        return _verdict(cert, opts)
    if fresh and reason == "gtol" and (neg or cls == "degenerate"):
        st.strict, st.kind = True, "certified_" + cls
        return None
    if neg:
        p, ft, a = _escape(obj, st, cert)
        if p is None:
            return Status.ESCAPE_FAILED
        _accept(obj, st, p, ft, opts, rho=1.0)
        st.delta, st.kind, st.strict = a, "negative_curvature", False
        return None
    if fresh:                                   # continue from the fresh model, whose
        st.kind = "certified_" + cls            # accuracy warrants a restart of the radius
        st.delta = max(st.delta, opts.initial_trust_radius)
        return None
    return _verdict(cert, opts)


def _iterate(obj, st, opts):
    """One iteration: step, ratio test, radius update, accept or reject."""
    step, lam_min = _step(st)
    if not st.fresh and lam_min < 0:             # SR1 suspects negative curvature: confirm
        _refresh(obj, st, opts)
        step, lam_min = _step(st)
    st.lam_min = lam_min
    reason = _looks_stationary(obj, st, step, opts)
    if reason is not None:
        return _at_stationary_looking_point(obj, st, opts, reason)
    pred, p = step.predicted_reduction, step.p
    ft = _trial(obj, st.x, p)
    if (st.f - ft) <= opts.eta * pred and step.alt is not None:   # both signs (hard case)
        ft_alt = _trial(obj, st.x, step.alt)
        if ft_alt < ft:
            p, ft = step.alt, ft_alt
    rho = (st.f - ft) / pred
    norm_p = float(np.linalg.norm(p))
    if rho < ETA_LOW:
        st.delta = SHRINK * norm_p
    elif rho > ETA_HIGH and norm_p >= (1 - 1e-6) * st.delta:
        st.delta = min(GROW * st.delta, opts.max_trust_radius)
    if rho > opts.eta:
        if st.f - ft > opts.gtol * max(1.0, abs(st.f)):
            st.strict = False                    # left the stationary region
        _accept(obj, st, p, ft, opts, rho)
        st.kind = step.kind
    else:
        st.kind = step.kind + "_rejected"
        if not st.fresh:
            _refresh(obj, st, opts)
    return None


def _record(st, nit, opts):
    row = Iterate(nit, st.x.copy(), st.f, float(np.linalg.norm(st.g)), st.lam_min,
                  st.delta, st.kind, st.cert.classification if st.cert is not None else None)
    if opts.keep_history:
        st.history.append(row)
    if opts.return_all:
        st.allvecs.append(st.x.copy())
    if opts.disp:
        if nit == 0:
            print(f"{'iter':>5} {'f':>14} {'norm(g)':>10} {'lam_min':>11} {'radius':>10}  step")
        print(f"{nit:5d} {st.f:14.7g} {row.grad_norm:10.3g} {row.lam_min:11.3g} "
              f"{st.delta:10.3g}  {st.kind}")


def solve(obj, opts, callback=None):
    """Run the trust-region loop on an :class:`~curvopt.objective.Objective`.

    Parameters
    ----------
    obj : Objective
    opts : SolverOptions
    callback : callable, optional
        ``callback(x, f)`` after each iteration; ``StopIteration`` ends the run (status 99).

    Returns
    -------
    SolverResult

    Raises
    ------
    ValueError
        f(x0) is not finite.
    """
    x0 = obj.x0.copy()
    f0 = obj.f(x0)
    if not np.isfinite(f0):
        raise ValueError(f"f(x0) = {f0} is not finite at x0 = {x0}")
    n = x0.shape[0]
    st = _State(x=x0, f=f0, g=np.zeros(n), H=np.eye(n), g_tol=0.0,
                delta=float(opts.initial_trust_radius))
    st.lam_min, status, nit = np.nan, None, 0
    try:
        _refresh(obj, st, opts)
        st.lam_min = float(np.linalg.eigvalsh(st.H)[0]) if np.all(np.isfinite(st.H)) else np.nan
        _record(st, 0, opts)
        while status is None:
            if nit >= opts.maxiter:
                status = Status.MAXITER
                break
            nit += 1
            status = _iterate(obj, st, opts)
            _record(st, nit, opts)
            if callback is not None and status is None:
                callback(st.x.copy(), st.f)
    except BudgetExhausted:
        status = Status.MAXFEV
    except StopIteration:
        status = Status.CALLBACK_STOP
    if status == Status.MAXITER and st.cert is None:
        try:
            _certify(obj, st, opts)
        except BudgetExhausted:
            pass
    return SolverResult(st.x, st.f, st.g, st.H, nit, status, st.cert,
                        tuple(st.history), tuple(st.allvecs))
