"""The local model at large n: g and products v -> H v, never a dense H.

At a point x the matrix-free loop (:mod:`curvopt.newton_krylov`) needs the gradient g and
Hessian-vector products. :func:`curvature_at` returns a :class:`Curvature` whose
``hessp`` is, by the first source that applies:

* ``"hessp"`` -- the user's ``hessp(x, v)`` (exact);
* ``"sparse"`` -- ``hess_sparsity`` given: a sparse H assembled once per point from the
  4-point stencil restricted to the pattern (:class:`curvopt.coloring.PatternStencil`,
  4 values per off-diagonal nonzero and 2 per diagonal: a tridiagonal H costs 6n values),
  then ``H @ v``; with the user's ``jac``, the central differences of gradients along
  the CPR groups of the pattern (:func:`curvopt.coloring.cpr_coloring`, 2 gradient calls
  per group) instead;
* ``"jac"`` -- the forward difference of the user's gradient along v, (g(x + e v) -
  g(x)) / e with e = eps^(1/2) max(1, ||x||) / ||v|| (one gradient call);
* ``"values"`` -- the forward difference along v of forward-difference gradients,
  (g_h(x + e v) - g_h(x)) / e (n + 1 values; g_h(x) once per point), h_i = eps_f^(1/3)
  max(1, |x_i|), e = eps_f^(1/3) max(1, ||x||) / ||v||: the O(h) truncation of g_h
  cancels in the difference, leaving O(h e) and the rounding 4 sigma / (h e).

The step products are for the trust-region subproblem, which tolerates their O(e) error
(inexact Newton: Dembo, Eisenstat & Steihaug 1982). The certificate uses
:func:`curvopt.fd.estimates.hvp_estimate` at its Ritz vectors (central along v, with an
error bound) or the sparse H with its elementwise bound.

References
----------
Dembo, R. S., Eisenstat, S. C. & Steihaug, T. (1982). Inexact Newton methods. SIAM J.
Numer. Anal. 19(2), 400-408. Coleman, T. F. & More, J. J. (1984). Estimation of sparse
Hessian matrices and graph coloring problems. Math. Program. 28, 243-270.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from curvopt.coloring import cpr_coloring, pattern_stencil
from curvopt.fd.bounds import K_NOISE, S_TRUNC
from curvopt.fd.estimates import gradient_estimate, hvp_estimate
from curvopt.fd.stencils import axis_batch, hessian_batch
from curvopt.fd.steps import representable, steps_for
from curvopt.objective import NonFiniteError

__all__ = ["Curvature", "curvature_at", "loop_gradient_at", "sparse_hessian"]


@dataclass
class Curvature:
    """Products with H at one point.

    Attributes
    ----------
    x : ndarray
    source : str
        ``"hessp"``, ``"sparse"``, ``"jac"`` or ``"values"`` (module docstring).
    g : ndarray
        The gradient at x the products difference against.
    H : scipy.sparse.csr_array or None
        The assembled sparse H (``"sparse"`` only).
    H_err : scipy.sparse.csr_array or None
        Its elementwise error bound, when assembled with errors.
    nprod : int
        Products taken so far.
    D : ndarray or None
        Scaling of the trust region and of the certificate's Lanczos run, once computed.
    """

    obj: object
    x: np.ndarray
    source: str
    g: np.ndarray
    rel: float
    H: object = None
    H_err: object = None
    nprod: int = 0
    D: np.ndarray | None = None
    f: float = float("nan")
    _gf: np.ndarray | None = None

    def hessp(self, v):
        """H v for a float64 vector v (0 for v = 0)."""
        v = np.asarray(v, dtype=np.float64)
        self.nprod += 1
        nv = float(np.linalg.norm(v))
        if nv == 0:
            return np.zeros_like(v)
        if self.source == "hessp":
            return self.obj.hessp(self.x, v)
        if self.source == "sparse":
            return self.H @ v
        x64 = self.x.astype(np.float64)
        power = 0.5 if self.source == "jac" else 1.0 / 3.0
        e = self.rel ** power * max(1.0, float(np.linalg.norm(x64))) / nv
        xe = (x64 + e * v).astype(self.x.dtype)
        e_eff = (xe.astype(np.float64) - x64) @ v / (nv * nv)    # the step taken
        if self.source == "jac":
            return (self.obj.grad(xe) - self.g) / e_eff
        if self._gf is None:
            self._gf = self._forward(self.x, self.f)
        return (self._forward(xe) - self._gf) / e_eff

    def _forward(self, y, fy=None):
        """Forward-difference gradient at y, steps eps_f^(1/3) s_i (n values, plus f(y)):
        its O(h) truncation is nearly the same at x and x + e v, so it cancels in the
        product to O(h e) and the rounding 4 sigma / (h e) is what remains."""
        fy = self.obj.f(y) if fy is None else fy
        if not np.isfinite(fy):
            raise NonFiniteError(f"f is not finite at a product point near x = {self.x}")
        h = steps_for(y, self.rel, "central")
        return gradient_estimate(self.obj, y, fy, 0.0, h, scheme="forward",
                                 errors=False).value

    def diagonal(self, f):
        """diag H where it is cheap: the sparse H's, or central second differences
        (f(x + h e_i) - 2 f + f(x - h e_i)) / h^2 from f (2n values); None otherwise."""
        if self.source == "sparse":
            return self.H.diagonal()
        if self.source != "values":
            return None
        x = self.x
        he, xp, xm = representable(x, steps_for(x, self.rel, "hessian"))
        n = x.shape[0]
        vals = self.obj.values(axis_batch(x, xp, xm))
        d = ((vals[:n] - f) + (vals[n:] - f)) / (he * he)
        return np.where(np.isfinite(d), d, 0.0)

    def estimate(self, v, sigma):
        """(H v, ||error||) for the certificate: exact products and the sparse H (its
        elementwise bound times |v|); else :func:`~curvopt.fd.estimates.hvp_estimate`."""
        v = np.asarray(v, dtype=np.float64)
        if self.source == "hessp":
            return self.obj.hessp(self.x, v), 0.0
        if self.source == "sparse":
            err = np.inf if self.H_err is None else float(np.linalg.norm(self.H_err @ np.abs(v)))
            return self.H @ v, err
        xs = max(1.0, float(np.abs(self.x.astype(np.float64)).max()))
        vmax = float(np.abs(v).max())
        if self.source == "jac":
            est = hvp_estimate(self.obj, self.x, 0.0, v, self.rel ** (1 / 3) * xs / vmax)
        else:
            h = steps_for(self.x, self.rel, "hessian")
            est = hvp_estimate(self.obj, self.x, sigma, v, self.rel ** 0.25 * xs / vmax, h)
        err = float(np.linalg.norm(est.error))
        return est.value, (err if np.isfinite(err) else np.inf)


def loop_gradient_at(obj, x, f, sigma, rel, errors=False):
    """(g, ||g_err||) at x: the user's jac (error 0) or central differences (2n values;
    with ``errors`` a Richardson bound, 4n values)."""
    if obj.has_grad:
        return obj.grad(x), 0.0
    est = gradient_estimate(obj, x, f, sigma, steps_for(x, rel, "central"), errors=errors)
    err = float(np.linalg.norm(est.error)) if errors else float(np.linalg.norm(est.rounding))
    return est.value, (err if np.isfinite(err) else np.inf)


def curvature_at(obj, x, f, g, rel, sigma, *, sparsity=None, errors=False):
    """The :class:`Curvature` at x (its source: module docstring); ``errors`` adds the
    elementwise bound of a sparse H (a second stencil at 2h)."""
    if obj.has_hessp:
        return Curvature(obj, x, "hessp", g, rel)
    if sparsity is not None:
        H, H_err = sparse_hessian(obj, x, f, rel, sigma, sparsity, errors)
        return Curvature(obj, x, "sparse", g, rel, H, H_err)
    return Curvature(obj, x, "jac" if obj.has_grad else "values", g, rel, f=float(f))


def _stencil_hessian(obj, x, f, st, h):
    """Sparse H from the pattern stencil at steps h (diagonal at 2h), its values taken as
    one :class:`~curvopt.evaluation.PairBatch` (no point is materialised)."""
    batch, he, he2 = hessian_batch(x, h, st.I.astype(np.int64), st.J.astype(np.int64))
    vals = obj.values(batch)
    if not np.all(np.isfinite(vals)):
        raise NonFiniteError(f"f is not finite at a sparse-stencil point near x = {x}")
    return st.combine(f, *st.split(vals), he, he2)[0]


def sparse_hessian(obj, x, f, rel, sigma, sparsity, errors):
    """(H, H_err): sparse H on the pattern of ``sparsity`` and, with ``errors``, an
    elementwise bound S_TRUNC |H(h) - H(2h)| / 3 + K_NOISE sigma / (h_i h_j) (None
    without). With the user's jac: CPR groups of central gradient differences."""
    if obj.has_grad:
        return _cpr_hessian(obj, x, rel, sparsity, errors)
    st = pattern_stencil(sparsity, x.shape[0])
    h = steps_for(x, rel, "hessian")
    H = _stencil_hessian(obj, x, f, st, h)
    if not errors:
        return H, None
    H2 = _stencil_hessian(obj, x, f, st, 2.0 * h)
    D = abs(H - H2).tocoo()
    hh = h[D.row] * h[D.col]
    err = S_TRUNC * D.data / 3.0 + K_NOISE * max(sigma, obj.f_eps * abs(f)) * 2.0 / hh
    H_err = sp.csr_array((err, (D.row, D.col)), shape=H.shape)
    return H, H_err


def _cpr_products(obj, x, col, h):
    """B[:, c] = (g(x + d_c) - g(x - d_c)) / 2 for the CPR directions d_c at steps h, and
    max |g| met (for the rounding bound)."""
    x64 = x.astype(np.float64)
    B, gmax = np.empty((x.shape[0], col.ncolors)), 0.0
    for c in range(col.ncolors):
        d = np.where(col.colors == c, h, 0.0)
        gp, gm = (obj.grad((x64 + t * d).astype(x.dtype)) for t in (1.0, -1.0))
        B[:, c] = (gp - gm) / 2.0
        gmax = max(gmax, float(np.abs(gp).max()), float(np.abs(gm).max()))
    return B, gmax


def _cpr_hessian(obj, x, rel, sparsity, errors):
    """(H, H_err) from the user's gradient: one central difference per CPR group, and
    with ``errors`` a second at 2h: |B(h) - B(2h)| S_TRUNC / 3 (Richardson) plus the
    rounding 10 eps_g max |g| in each compressed column."""
    col = cpr_coloring(sparsity, x.shape[0])
    h = rel ** (1 / 3) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    B, gmax = _cpr_products(obj, x, col, h)
    if not errors:
        return col.recover(B, h)[0], None
    B2, gmax2 = _cpr_products(obj, x, col, 2.0 * h)
    B_err = S_TRUNC * np.abs(B - B2 / 2.0) / 3.0 + 10.0 * obj.jac_eps * max(gmax, gmax2)
    return col.recover(B, h, B_err)
