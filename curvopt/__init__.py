"""curvopt: saddle-aware second-order minimization with honest convergence certificates.

Finite-difference kernels with error estimates (``gradient``, ``hessian``, ``hessp``,
``noise_level``), convergence certificates (``check``, ``certify``, ``Certificate``),
spectrum utilities (``spectrum_of``, ``symmetrize``, ``nearest_psd``, ``shift_to``,
``lanczos_extremes``) and a saddle-aware trust-region Newton solver (``minimize``).

The module itself is callable with scipy's custom-method signature, so both of these work::

    scipy.optimize.minimize(fun, x0, method=curvopt)
    scipy.optimize.minimize(fun, x0, method=curvopt.minimize)   # picklable

"""
import sys
import types

from ._minimize import minimize
from .certificate import Certificate, certify
from .check import check
from .differentiate import gradient, hessian, hessp
from .noise import noise_level
from .spectrum import (Spectrum, lanczos_extremes, nearest_psd, shift_to, spectrum_of,
                       symmetrize)

__version__ = "0.1.0"

__all__ = ["minimize", "check", "certify", "Certificate", "gradient", "hessian", "hessp",
           "noise_level", "Spectrum", "spectrum_of", "symmetrize", "nearest_psd", "shift_to",
           "lanczos_extremes"]


class _CallableModule(types.ModuleType):
    """Module type whose instances forward calls to :func:`curvopt.minimize`."""

    def __call__(self, fun, x0, *args, **kwargs):
        return minimize(fun, x0, *args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
