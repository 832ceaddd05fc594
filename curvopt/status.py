"""Termination codes of the curvopt solver, each with its message; the loop's records.

One enum, one message per code (the pattern of Optim.jl's termination codes). The integer
values follow scipy's conventions where scipy has one: ``0`` is success, ``1`` is the
iteration limit, ``99`` is scipy's code for a callback that raised ``StopIteration``.

``success`` is True only for codes that rest on a convergence certificate: ``MINIMUM``
(stationary, smallest Hessian eigenvalue certified positive) and ``DEGENERATE_MINIMUM``
(stationary, no certified negative curvature, some eigenvalues indistinguishable from 0).

Also the records the loop shares with the public API (the options/status layer):
:class:`SolverOptions` and :class:`Iterate` (one row of ``OptimizeResult.history``).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["Status", "SolverOptions", "Iterate"]


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
    Status.INCONCLUSIVE: "Progress stopped, but the certificate is inconclusive at this "
                         "precision (see `certificate.inconclusive`).",
    Status.NOT_STATIONARY: "Progress stopped, but the gradient is certified nonzero: the "
                           "point is not stationary at this precision.",
    Status.ESCAPE_FAILED: "Stopped at a point with certified negative curvature (a saddle "
                          "or maximum): no step along the negative-curvature directions "
                          "decreased f.",
    Status.NONFINITE: "The objective is not finite at finite-difference points around the "
                      "current x, so no model (or certificate) could be built there.",
    Status.CALLBACK_STOP: "`callback` raised `StopIteration`.",
}


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
    names: tuple | None = None
    noise: bool = True
    trust_scaling: str = "none"


@dataclass(frozen=True)
class Iterate:
    """One row of the history: the iterate after an iteration (nit 0: the start).

    ``curvature`` is the class of the loop's cheap model Hessian at the time (FD, SR1 or
    exact), from the eigenvalues the step already computed, with no error bounds and no
    extra evaluations: ``"positive definite"``, ``"negative definite"``, ``"indefinite"``
    or ``"singular"`` (eigenvalues within sqrt(eps_f) max|lam| of 0 and none of the other
    sign), None when H was not finite. ``classification`` is the certificate's verdict
    (with error bounds), present only at points that were certified, else None.
    """

    nit: int
    x: np.ndarray
    f: float
    grad_norm: float
    lam_min: float
    delta: float
    kind: str
    classification: str | None
    curvature: str | None = None
