"""Termination codes of the curvopt solver, each with its message.

One enum, one message per code (the pattern of Optim.jl's termination codes). The integer
values follow scipy's conventions where scipy has one: ``0`` is success, ``1`` is the
iteration limit, ``99`` is scipy's code for a callback that raised ``StopIteration``.

``success`` is True only for codes that rest on a certificate of a minimum: ``MINIMUM``
(stationary at this precision, every Hessian eigenvalue certified positive -- or resolved
positive by probes of f) and ``DEGENERATE_MINIMUM`` (stationary, no certified negative
curvature, and along the directions the quadratic model cannot decide, values of f --
straight and curved probes, both signs, out to far distances -- never fell below f(x)
beyond its noise). What each ending rests on is written out in docs/certificates.md.
"""
from __future__ import annotations

from enum import IntEnum

__all__ = ["Status"]


class Status(IntEnum):
    """Why a curvopt run ended.

    Use ``status.message`` for the human-readable text and ``status.success`` for the
    boolean that goes into ``OptimizeResult.success``.
    """

    MINIMUM = 0
    MAXITER = 1
    MAXFEV = 2
    DEGENERATE_MINIMUM = 3
    INCONCLUSIVE = 4
    NOT_STATIONARY = 5
    ESCAPE_FAILED = 6
    NONFINITE = 7
    NO_FINITE_MINIMIZER = 8
    MAXTIME = 9
    INTERRUPTED = 10
    STALLED = 11
    CALLBACK_STOP = 99

    @property
    def success(self) -> bool:
        """True only where the evidence supports a (possibly degenerate) minimum."""
        return self in (Status.MINIMUM, Status.DEGENERATE_MINIMUM)

    @property
    def message(self) -> str:
        """The human-readable message for this code."""
        return _MESSAGES[self]


_MESSAGES = {
    Status.MINIMUM: "Certified local minimum: stationary at this precision and every "
                    "Hessian eigenvalue certified positive.",
    Status.MAXITER: "Maximum number of iterations has been exceeded.",
    Status.MAXFEV: "Maximum number of function evaluations has been exceeded.",
    Status.DEGENERATE_MINIMUM: "Degenerate minimum: stationary, no certified negative "
                               "curvature, and along the flat directions (eigenvalues "
                               "indistinguishable from zero) probes of f never fell below "
                               "f beyond its noise: flat or non-identifiable directions.",
    Status.INCONCLUSIVE: "Progress stopped, but the certificate is inconclusive at this "
                         "precision (see `certificate.inconclusive`).",
    Status.NOT_STATIONARY: "Progress stopped, but the gradient is certified nonzero: the "
                           "point is not stationary at this precision.",
    Status.ESCAPE_FAILED: "Stopped at a point with certified negative curvature (a saddle "
                          "or maximum): no step along the negative-curvature directions "
                          "decreased f.",
    Status.NONFINITE: "The objective is not finite at finite-difference points around the "
                      "current x, so no model (or certificate) could be built there.",
    Status.NO_FINITE_MINIMIZER: "No finite minimizer: f decreases along a ray as far as it "
                                "was probed (the minimum is at infinity or f is unbounded "
                                "below).",
    Status.MAXTIME: "Maximum time (maxtime) has been exceeded.",
    Status.INTERRUPTED: "Interrupted (KeyboardInterrupt): the best point so far is "
                        "returned.",
    Status.STALLED: "Progress stalled: f decreased by less than its resolution over the "
                    "last iterations, and no certificate could be made.",
    Status.CALLBACK_STOP: "`callback` raised `StopIteration`.",
}
