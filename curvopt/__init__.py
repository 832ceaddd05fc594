"""curvopt: saddle-aware second-order minimization with honest convergence certificates.

Public API (filled in as the layers land): finite-difference kernels ``gradient``,
``hessian``, ``hessp``; ``check`` and ``Certificate``; ``minimize`` (scipy custom method).
"""
__version__ = "0.1.0"
