"""Finite differences: step rules, stencils, noise of f, error bounds and estimates.

``steps``      every step rule (default eps_f^(1/k) s_i, curvature cap, third-derivative)
``stencils``   stencil descriptions (points differing from x in one or two coordinates)
               and the formulas that combine their values
``noise``      ECnoise (More & Wild 2011): the noise of f, returned, never stored
``bounds``     truncation, rounding, step and smoothness terms of the error bounds
``onesided``   one-sided formulas at a domain edge
``estimates``  the derivative estimates (one record, :class:`Estimate`)
"""
