"""Termination codes of the curvopt solver, each with its message.

One enum, one message per code (the pattern of Optim.jl's termination codes). The integer
values follow scipy's conventions where scipy has one: ``0`` is success, ``1`` is the
iteration limit, ``99`` is scipy's code for a callback that raised ``StopIteration``.

``success`` is True only for codes that rest on a convergence certificate: ``MINIMUM``
(stationary, smallest Hessian eigenvalue certified positive) and ``DEGENERATE_MINIMUM``
(stationary, no certified negative curvature, some eigenvalues indistinguishable from 0).
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
    STALLED = 4
    INCONCLUSIVE = 5
    NOT_STATIONARY = 6
    ESCAPE_FAILED = 7
    NONFINITE = 8
    CALLBACK_STOP = 99

    @property
    def success(self) -> bool:
        """True only where a certificate supports a (possibly degenerate) minimum."""
        return self in (Status.MINIMUM, Status.DEGENERATE_MINIMUM)

    @property
    def message(self) -> str:
        """The human-readable message for this code."""
        return _MESSAGES[self]


_MESSAGES = {
    Status.MINIMUM: "Certified local minimum: gradient zero within its error bound and "
                    "smallest Hessian eigenvalue certified positive.",
    Status.MAXITER: "Maximum number of iterations has been exceeded.",
    Status.MAXFEV: "Maximum number of function evaluations has been exceeded.",
    Status.DEGENERATE_MINIMUM: "Stationary point with no certified negative curvature, but "
                               "some Hessian eigenvalues are indistinguishable from zero "
                               "(degenerate minimum: flat or non-identifiable directions).",
    Status.STALLED: "Trust radius fell to the rounding level of x without a certified "
                    "minimum: no further progress is measurable.",
    Status.INCONCLUSIVE: "Progress stopped, but the certificate is inconclusive at this "
                         "precision (see `certificate.inconclusive`).",
    Status.NOT_STATIONARY: "Progress stopped, but the gradient is certified nonzero: the "
                           "point is not stationary at this precision.",
    Status.ESCAPE_FAILED: "Stopped at a point with certified negative curvature (a saddle "
                          "or maximum): no step along the negative-curvature directions "
                          "decreased f.",
    Status.NONFINITE: "The objective returned non-finite values around the current point "
                      "and no finite step could be found.",
    Status.CALLBACK_STOP: "`callback` raised `StopIteration`.",
}
