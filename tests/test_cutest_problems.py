"""Tests of the hand-coded CUTEst problems HEART6LS and MARATOSB (curvopt/problems/cutest.py).

References: the SIF files (standard starts, the HEART6LS data, MARATOSB's penalty 1e-6), an
independent element-by-element evaluation of the HEART6LS SIF groups written here, our own
central differences of f (for the gradient) and of the analytic gradient (for the Hessian),
scipy's trust-exact with the exact derivatives, and for MARATOSB the stationary points in
closed form (roots of x^3 - x + 1/(4M) = 0, M = 1e6) computed in 40-digit decimal arithmetic.
"""
from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest
from scipy.optimize import minimize

import curvopt
from curvopt.problems._base import Problem
from curvopt.problems.cutest import cutest_problems, heart6ls, maratosb

EPS = np.finfo(float).eps

# HEART6LS SIF data (active RE block) and elements, written out as in the SIF file.
MX, MY = -0.816, -0.017
SUM_A, SUM_B, SUM_C, SUM_D, SUM_E, SUM_F = -1.826, -0.754, -4.839, -3.259, -14.023, 15.467


def heart6ls_sif(x):
    """f from the SIF element types and group uses (E1..E24, G1..G6), independently of the
    module's compact residual formulas."""
    a, c, t, u, v, w = x
    prod2 = lambda X, Y: X * Y                                   # noqa: E731
    prod3 = lambda X, Y, Z: X * Y * Z                            # noqa: E731
    vpv = lambda X, Y, al: X * (al - Y)                          # noqa: E731
    adfsq = lambda X, Y, Z: X * (Y ** 2 - Z ** 2)                # noqa: E731
    pdfsq = lambda X, Y, Z, al: (al - X) * (Y ** 2 - Z ** 2)     # noqa: E731
    p3prd = lambda X, Y, Z, al: (al - X) * Y * Z                 # noqa: E731
    dprd3 = lambda X, Y, Z: X * Y * (Y ** 2 - 3 * Z ** 2)        # noqa: E731
    d3prd = lambda X, Y, Z, al: (al - X) * Y * (Y ** 2 - 3 * Z ** 2)  # noqa: E731
    E = [None,
         prod2(t, a), vpv(u, a, MX), prod2(v, c), vpv(w, c, MY),
         prod2(v, a), vpv(w, a, MX), prod2(t, c), vpv(u, c, MY),
         adfsq(a, t, v), prod3(c, t, v), pdfsq(a, u, w, MX), p3prd(c, u, w, MY),
         adfsq(c, t, v), prod3(a, t, v), pdfsq(c, u, w, MY), p3prd(a, u, w, MX),
         dprd3(a, t, v), dprd3(c, v, t), d3prd(a, u, w, MX), d3prd(c, w, u, MY),
         dprd3(c, t, v), dprd3(a, v, t), d3prd(c, u, w, MY), d3prd(a, w, u, MX)]
    G = [E[1] + E[2] - E[3] - E[4] - SUM_A,
         E[5] + E[6] + E[7] + E[8] - SUM_B,
         E[9] - 2 * E[10] + E[11] - 2 * E[12] - SUM_C,
         E[13] + 2 * E[14] + E[15] + 2 * E[16] - SUM_D,
         E[17] + E[18] + E[19] + E[20] - SUM_E,
         E[21] - E[22] + E[23] - E[24] - SUM_F]
    return sum(g * g for g in G)


def central(fun, x, j, h):
    e = np.zeros_like(x)
    e[j] = h
    return (fun(x + e) - fun(x - e)) / (2 * h)


def sample_points(p, k=4, seed=0):
    rng = np.random.default_rng(seed)
    x0 = p.start()
    return [x0] + [x0 + 0.5 * rng.standard_normal(p.n) * np.maximum(1.0, np.abs(x0))
                   for _ in range(k)]


def check_derivative(fun, dfun, x, values):
    """Columns of dfun(x) against central differences of fun with h_j = eps^(1/3) max(1, |x_j|):
    |D(h) - d| <= |D(h) - D(2h)| + 10 eps max|values| / h, and that tolerance <= 1e-5 of the
    derivative's size (so the check is not vacuous)."""
    d = dfun(x)                                    # gradient (n,) or Hessian (n, n)
    scale = np.max(np.abs(d)) + 1e-300
    for j in range(x.size):
        h = EPS ** (1 / 3) * max(1.0, abs(x[j]))
        D1, D2 = central(fun, x, j, h), central(fun, x, j, 2 * h)
        tol = np.max(np.abs(D1 - D2)) + 10 * EPS * values / h
        assert tol <= 1e-5 * scale, (x, j, tol, scale)
        dj = d[j] if d.ndim == 1 else d[:, j]
        np.testing.assert_array_less(np.abs(D1 - dj), tol + 1e-300)


def test_records_and_documented_starts():
    probs = cutest_problems()
    assert [p.name for p in probs] == ["heart6ls", "maratosb"]
    assert all(isinstance(p, Problem) for p in probs)
    h, m = probs
    assert h.n == 6 and m.n == 2
    np.testing.assert_array_equal(h.start(), [0, 0, 1, 1, 1, 1])   # a = c = 0, others 1
    np.testing.assert_array_equal(m.start(), [1.1, 0.1])
    assert h.f_star == 0.0
    assert "HEART6LS" in h.reference and "MARATOSB" in m.reference


def test_values_match_sif_definitions():
    h, m = heart6ls(), maratosb()
    for x in sample_points(h, k=6, seed=3):
        assert h.f(x) == pytest.approx(heart6ls_sif(x), rel=1e-12, abs=1e-12)
    # at the start every SIF group is known in closed form: a = c = 0, b = Mx, d = My
    # G1 = Mx - My - A, G2 = Mx + My - B, G3 = -2 My - C, G4 = 2 Mx - D,
    # G5 = -2 Mx - 2 My - E, G6 = -2 My + 2 Mx - F (P(1, 1) = -2)
    G = [MX - MY - SUM_A, MX + MY - SUM_B, -2 * MY - SUM_C, 2 * MX - SUM_D,
         -2 * MX - 2 * MY - SUM_E, -2 * MY + 2 * MX - SUM_F]
    assert h.f(h.start()) == pytest.approx(sum(g * g for g in G), rel=1e-14)
    # MARATOSB: f(1.1, 0.1) = 1.1 + 1e6 (1.21 + 0.01 - 1)^2 = 1.1 + 48400
    assert m.f(m.start()) == pytest.approx(48401.1, rel=1e-13)
    assert m.f([0.0, 1.0]) == 0.0
    assert m.f([-1.0, 0.0]) == -1.0


@pytest.mark.parametrize("make", [heart6ls, maratosb])
def test_gradient_and_hessian_against_central_differences(make):
    p = make()
    points = sample_points(p)
    if p.x_star is not None:
        points.append(np.array(p.x_star))
    for k, x in enumerate(points):
        if k < len(points) - 1 or p.x_star is None:     # grad(x_star) ~ 0: only the Hessian
            check_derivative(p.f, p.grad, x, max(abs(p.f(x)), 1.0))
        check_derivative(p.grad, p.hess, x, max(np.max(np.abs(p.grad(x))), 1.0))
        H = p.hess(x)
        np.testing.assert_array_equal(H, H.T)


def newton_polish(p, x, steps=4):
    for _ in range(steps):
        x = x - np.linalg.solve(p.hess(x), p.grad(x))
    return x


@pytest.mark.parametrize("x0", [None, [-1.0, 0.0, 1.0, 1.0, 1.0, -1.0]])
def test_heart6ls_zero_residual_minimizer(x0):
    """trust-exact with the exact derivatives reaches f ~ 0 (the SIF's SOLTN 0.0); a few
    Newton steps then give a zero of the residuals that the SIF evaluation confirms."""
    p = heart6ls()
    x0 = p.start() if x0 is None else np.array(x0)
    res = minimize(p.f, x0, method="trust-exact", jac=p.grad, hess=p.hess,
                   options={"maxiter": 3000})
    assert res.fun <= 1e-12
    x = newton_polish(p, res.x)
    H = p.hess(x)
    assert p.f(x) <= 1e-24
    assert heart6ls_sif(x) <= 1e-22
    assert np.linalg.norm(p.grad(x)) <= 1e-8
    lam = np.linalg.eigvalsh(H)
    # H ~ 2 J'J there: positive definite, but with condition number ~4e11 (a stiff minimum)
    assert lam[0] > 100 * EPS * lam[-1]
    # b = Mx - a and d = My - c: the problem is symmetric under (a, c, t, u, v, w) ->
    # (Mx - a, My - c, u, t, w, v), so the mirrored point is a zero too
    a, c, t, u, v, w = x
    mirrored = np.array([MX - a, MY - c, u, t, w, v])
    assert p.f(mirrored) <= 1e-22


def maratosb_roots():
    """The three roots of x^3 - x + 1/(4M), M = 1e6, by 40-digit Newton from -1, 0, 1."""
    with localcontext() as ctx:
        ctx.prec = 40
        q = 1 / (4 * Decimal(10) ** 6)
        roots = []
        for x in (Decimal(-1), Decimal(0), Decimal(1)):
            for _ in range(40):
                x -= (x ** 3 - x + q) / (3 * x ** 2 - 1)
            roots.append(x)
        fvals = [x + Decimal(10) ** 6 * (x * x - 1) ** 2 for x in roots]
    return roots, fvals


def test_maratosb_closed_form_minimum():
    p = maratosb()
    (xm, x0, xp), (fm, _, fp) = maratosb_roots()
    assert p.f_star == pytest.approx(float(fm), rel=1e-15)
    assert p.f_star == pytest.approx(-1.0000000625, abs=1e-12)      # first-order expansion
    np.testing.assert_allclose(p.x_star, [float(xm), 0.0], rtol=1e-15, atol=0)
    assert abs(p.f(p.x_star) - p.f_star) <= 4 * EPS
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-8
    lam = np.linalg.eigvalsh(p.hess(p.x_star))
    # hess = diag(8 M x1^2 - 1/x1, -1/x1) at (x1, 0): eigenvalues ~1 and ~8e6
    np.testing.assert_allclose(lam, sorted([8e6 * float(xm) ** 2 - 1 / float(xm),
                                            -1 / float(xm)]), rtol=1e-6)
    # the stationary point near (1, 0) is a strict saddle with f = 1 - 6.25e-8
    # (the "LO SOLTN 1.0" commented in the SIF file)
    xs = np.array([float(xp), 0.0])
    assert np.linalg.norm(p.grad(xs)) <= 1e-8
    lam = np.linalg.eigvalsh(p.hess(xs))
    assert lam[0] == pytest.approx(-1 / float(xp), rel=1e-6) and lam[1] > 7.9e6
    assert p.f(xs) == pytest.approx(float(fp), abs=1e-12)
    assert round(p.f(xs), 6) == 1.0
    # the root near 0 is a local maximum
    assert np.all(np.linalg.eigvalsh(p.hess(np.array([float(x0), 0.0]))) < 0)


@pytest.mark.parametrize("x0", [[1.1, 0.1], [-1.1, 0.1], [0.3, 0.9], [0.5, -0.5]])
def test_maratosb_trust_exact_reaches_minimum(x0):
    p = maratosb()
    res = minimize(p.f, x0, method="trust-exact", jac=p.grad, hess=p.hess,
                   options={"gtol": 1e-9, "maxiter": 3000})
    assert abs(res.fun - p.f_star) <= 1e-12
    assert np.linalg.norm(res.x - p.x_star) <= 1e-7


# -- curvopt with default options (issue: a budget that follows progress) ------------------
def test_curvopt_heart6ls_reaches_the_zero_residual_minimum_with_defaults():
    """HEART6LS from the standard start, function values only, no options: f falls from
    ~1e3 to the zero-residual level (the old default maxiter = 500 n stopped at 0.032).
    Near f = 0 the gradient along the flattest directions is below its FD error, so a
    success claim is not required; a claimed success must be a minimum."""
    p = heart6ls()
    res = curvopt.minimize(p.f, p.start())
    assert res.fun <= 1e-12, res.message
    assert not res.success or res.certificate.classification in ("minimum", "degenerate")


def test_curvopt_maratosb_reaches_the_certified_minimum_with_defaults():
    """MARATOSB from (1.1, 0.1): the old default maxiter = 500 n stopped at f = 0.34; the
    minimum f* = -1.0000000625 (closed form, 40 digits) is reached and certified."""
    p = maratosb()
    res = curvopt.minimize(p.f, p.start())
    assert res.success and res.certificate.classification == "minimum", res.message
    assert abs(res.fun - p.f_star) <= 1e-12 and abs(res.x[0] - p.x_star[0]) <= 1e-6
