"""curvopt: saddle-aware second-order minimization with honest convergence certificates.

Finite-difference kernels with error estimates (``gradient``, ``hessian``, ``hessp``,
``noise_level``), convergence certificates (``check``, ``certify``, ``Certificate``),
spectrum utilities (``spectrum_of``, ``symmetrize``, ``nearest_psd``, ``shift_to``,
``lanczos_extremes``) and a saddle-aware trust-region Newton solver (``minimize``).

The module itself is callable with scipy's custom-method signature, so both of these work::

    scipy.optimize.minimize(fun, x0, method=curvopt)
    scipy.optimize.minimize(fun, x0, method=curvopt.minimize)   # picklable

"""
import importlib
import sys
import types

from .api import minimize
from .certificate import Certificate, certify
from .check import check
from .differentiate import Estimate, gradient, hessian, hessp, noise_level
from .model import LocalModel, local_model
from .objective import BudgetExhausted, NonFiniteError, Objective
from .spectrum import (Spectrum, lanczos_extremes, nearest_psd, shift_to, spectrum_of,
                       symmetrize)
from .status import Status

__version__ = "0.1.0"

__all__ = ["minimize", "Status", "check", "certify", "Certificate", "gradient", "hessian",
           "hessp", "noise_level", "Estimate", "LocalModel", "local_model", "Objective", "BudgetExhausted",
           "NonFiniteError", "Spectrum", "spectrum_of", "symmetrize", "nearest_psd", "shift_to",
           "lanczos_extremes", "plot"]


class _CallableModule(types.ModuleType):
    """Module type whose instances forward calls to :func:`curvopt.minimize`.

    ``curvopt.plot`` (matplotlib, the ``plot`` extra) is imported on first access.
    """

    def __call__(self, fun, x0, *args, **kwargs):
        return minimize(fun, x0, *args, **kwargs)

    def __getattr__(self, name):
        if name == "plot":
            return importlib.import_module(".plot", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


sys.modules[__name__].__class__ = _CallableModule
