"""Local quadratic model of f at a point, with error bounds.

    m(p) = f + g'p + p'Hp / 2

where g and H approximate grad f(x) and hess f(x). Each carries an elementwise bound
(`g_err`, `H_err`) on its error, so that the layers above (spectrum, certificate, step)
can tell a real property of f from a property of the numerical error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LocalModel:
    """f, g, H at x with elementwise error bounds.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The point.
    f : float
        f(x).
    g : ndarray, shape (n,)
        Gradient estimate.
    H : ndarray, shape (n, n)
        Symmetric Hessian estimate.
    g_err : ndarray, shape (n,)
        Elementwise bound on ``|g - grad f(x)|``.
    H_err : ndarray, shape (n, n)
        Elementwise bound on ``|H - hess f(x)|`` (symmetric).
    f_noise : float
        Absolute noise level of f near x (standard deviation), e.g. from ECnoise.
    exact_hessian : bool
        True when H came from a user-supplied callable.
    nfev : int
        Function evaluations spent building this model.
    """

    x: np.ndarray
    f: float
    g: np.ndarray
    H: np.ndarray
    g_err: np.ndarray
    H_err: np.ndarray
    f_noise: float = 0.0
    exact_hessian: bool = False
    nfev: int = 0

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def predicted_reduction(self, p: np.ndarray) -> float:
        """-(g'p + p'Hp/2): the decrease of f the model predicts for step p."""
        return -(float(self.g @ p) + 0.5 * float(p @ (self.H @ p)))
