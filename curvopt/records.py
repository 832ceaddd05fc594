"""The records both solver loops hand to the public API: one row per iterate, the result,
and the exception that carries a callback's StopIteration out of a loop."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curvopt.status import Status

__all__ = ["Iterate", "SolverResult", "CallbackStop"]


@dataclass(frozen=True)
class Iterate:
    """One row of the history: the iterate after an iteration (nit 0: the start).

    ``curvature`` is the definiteness of the loop's model Hessian (FD, SR1 or exact) from
    the eigenvalues the step computed, without error bounds (:func:`curvopt.spectrum.
    definiteness`); ``classification`` is the certificate's verdict where one was made.
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
    ray: object = None


class CallbackStop(Exception):
    """The report (the user's callback) raised StopIteration."""
