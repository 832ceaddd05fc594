"""Checks of the NIST StRD transcription in ``benchmarks/data/nist`` and ``benchmarks/nist.py``.

These test the data and the hand-written models and Jacobians, not curvopt:

* the documented sizes (parameters, observations) published by NIST;
* SSR at the certified parameters reproduces the certified residual sum of squares
  (LRE >= 9; Lanczos1, whose certified SSR 1.43e-25 is below what the 11-digit parameters can
  reproduce, is checked by a 40-digit Gauss-Newton refinement instead);
* the certified standard deviations sqrt(diag(s^2 (J'J)^-1)), s^2 = SSR/(m - p), are
  reproduced from the analytic Jacobian (an independent check of data, model and Jacobian);
* the analytic Jacobian against central differences;
* the gradient 2 J'r at the certified values is small;
* Lanczos1/2 data against Lanczos's generating function.
"""
from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "nist.py"
_spec = importlib.util.spec_from_file_location("benchmarks_nist", _PATH)
nist = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = nist
_spec.loader.exec_module(nist)

# NIST's published sizes (parameters p, observations m) and level of difficulty, from the
# StRD nonlinear regression pages.
DOCUMENTED = {
    "Kirby2": (5, 151, "average"), "Hahn1": (7, 236, "average"), "Nelson": (3, 128, "average"),
    "MGH17": (5, 33, "average"), "Lanczos1": (6, 24, "average"),
    "Lanczos2": (6, 24, "average"), "Gauss3": (8, 250, "average"),
    "Misra1c": (2, 14, "average"), "Misra1d": (2, 14, "average"),
    "Roszman1": (4, 25, "average"), "ENSO": (9, 168, "average"),
    "MGH09": (4, 11, "higher"), "Thurber": (7, 37, "higher"), "BoxBOD": (2, 6, "higher"),
    "Rat42": (3, 9, "higher"), "MGH10": (3, 16, "higher"), "Eckerle4": (3, 35, "higher"),
    "Rat43": (4, 15, "higher"), "Bennett5": (3, 154, "higher"),
}

PROBLEMS = {name: nist.load(name) for name in nist.NAMES}
EPS = np.finfo(float).eps


def test_problem_list_is_the_requested_set():
    assert set(nist.NAMES) == set(DOCUMENTED)
    assert len(nist.NAMES) == 19


@pytest.mark.parametrize("name", nist.NAMES)
def test_documented_sizes(name):
    p = PROBLEMS[name]
    n, m, difficulty = DOCUMENTED[name]
    assert (p.n, p.m, p.difficulty) == (n, m, difficulty)
    assert len(p.starts) == 2
    for start in p.starts:
        assert start.shape == (n,)
    assert p.b_star.shape == p.sd.shape == (n,)
    assert np.all(p.sd > 0)
    assert p.response.shape == (m,)


def test_starts_match_independent_copies():
    # Thurber: nashjc's R problem file (start1, start2); Bennett5: JuliaSmoothOptimizers
    # OptimizationProblems.jl bennett5.jl (x0 and the commented start 2).
    th = PROBLEMS["Thurber"].starts
    np.testing.assert_array_equal(th[0], [1000, 1000, 400, 40, 0.7, 0.3, 0.03])
    np.testing.assert_array_equal(th[1], [1300, 1500, 500, 75, 1, 0.4, 0.05])
    be = PROBLEMS["Bennett5"].starts
    np.testing.assert_array_equal(be[0], [-2000, 50, 0.8])
    np.testing.assert_array_equal(be[1], [-1500, 45, 0.85])


def test_nelson_fits_log_response():
    p = PROBLEMS["Nelson"]
    np.testing.assert_array_equal(p.response, np.log(p.y))
    assert p.x.shape == (128, 2)


@pytest.mark.parametrize("name", [n for n in nist.NAMES if n != "Lanczos1"])
def test_ssr_at_certified_parameters(name):
    p = PROBLEMS[name]
    assert nist.lre(p.ssr(p.b_star), p.ssr_star) >= 9


def test_lanczos1_certified_ssr_by_high_precision_refinement():
    """Lanczos1's certified SSR (1.43e-25) is below the change caused by rounding b* to
    11 digits (SSR(b*) is about 4e-21 even in exact arithmetic), so refine b* by Gauss-Newton
    with residuals in 40-digit decimal arithmetic; the refined SSR must match the certified
    value and the refined parameters must round to the certified ones."""
    p = PROBLEMS["Lanczos1"]
    assert p.ssr(p.b_star) < 1e-19                     # tiny, but not 1.43e-25
    with localcontext() as ctx:
        ctx.prec = 40
        X = [Decimal(repr(float(v))) for v in p.x]
        Y = [Decimal(repr(float(v))) for v in p.y]

        def residuals(b):
            return [y - (b[0] * (-b[1] * x).exp() + b[2] * (-b[3] * x).exp()
                         + b[4] * (-b[5] * x).exp()) for x, y in zip(X, Y)]

        b = [Decimal(repr(float(v))) for v in p.b_star]
        for _ in range(3):
            r = residuals(b)
            J = p.jac(np.array([float(v) for v in b]))
            step = np.linalg.lstsq(J, -np.array([float(v) for v in r]), rcond=None)[0]
            b = [bi + Decimal(repr(float(si))) for bi, si in zip(b, step)]
        ssr = sum(v * v for v in residuals(b))
    assert nist.lre(float(ssr), p.ssr_star) >= 9
    assert p.lre_params(np.array([float(v) for v in b])) >= 9


@pytest.mark.parametrize("name", nist.NAMES)
def test_certified_standard_deviations_reproduced(name):
    """sd_j = sqrt(s^2 [(J'J)^-1]_jj), s^2 = SSR*/(m - p), J at b* (column-scaled QR)."""
    p = PROBLEMS[name]
    J = p.jac(p.b_star)
    scale = np.linalg.norm(J, axis=0)
    R = np.linalg.qr(J / scale, mode="r")
    Rinv = scipy.linalg.solve_triangular(R, np.eye(p.n))
    cov = (Rinv @ Rinv.T) / np.outer(scale, scale) * p.ssr_star / (p.m - p.n)
    sd = np.sqrt(np.diag(cov))
    assert min(nist.lre(a, c) for a, c in zip(sd, p.sd)) >= 8


def _central_jacobian(p, b, rel):
    """Central differences of the residuals with steps h_j = rel * |b_j| (rel if b_j = 0)."""
    J = np.empty((p.m, p.n))
    for j in range(p.n):
        h = rel * (abs(b[j]) if b[j] != 0 else 1.0)
        bp, bm = b.copy(), b.copy()
        bp[j] += h
        bm[j] -= h
        J[:, j] = (p.residuals(bp) - p.residuals(bm)) / (bp[j] - bm[j])
    return J


@pytest.mark.parametrize("name", nist.NAMES)
def test_jacobian_matches_central_differences(name):
    """Per column: |D(h) - J| <= |D(h) - D(2h)| + rounding, where D(h) - D(2h) ~ 3x the O(h^2)
    truncation error of D(h) and rounding = 10 eps max(|response| + |f|) / h. The tolerance
    itself must stay below 1e-4 of the column's size for the check to mean something, except
    for columns whose effect on r over the step is at rounding level (|J_j| h < 1e4 rounding,
    e.g. MGH17's exp(-2x) terms at start 1), where only the first inequality is asserted."""
    p = PROBLEMS[name]
    rel = EPS ** (1 / 3)
    checked = 0
    for b in (*p.starts, p.b_star):
        b = np.array(b, dtype=float)
        J = p.jac(b)
        D1, D2 = _central_jacobian(p, b, rel), _central_jacobian(p, b, 2 * rel)
        size = 10 * EPS * np.max(np.abs(p.response) + np.abs(p.f(p.x, b)))
        for j in range(p.n):
            h = rel * (abs(b[j]) if b[j] != 0 else 1.0)
            col = np.max(np.abs(J[:, j]))
            tol = np.max(np.abs(D1[:, j] - D2[:, j])) + size / h
            if col * h >= 1e4 * size:
                assert tol <= 1e-4 * col, (name, b, j)
                checked += 1
            assert np.max(np.abs(D1[:, j] - J[:, j])) <= tol, (name, b, j)
    assert checked >= 3 * p.n - 1


@pytest.mark.parametrize("name", nist.NAMES)
def test_gradient_small_at_certified_values(name):
    """||2 J'r|| at b* is below 1e-4 ||J|| ||r||, or below what rounding b* to 11 digits can
    cause to first order, 2 ||J||_2^2 ||delta|| with delta_j half a unit in b*_j's 11th digit
    (needed for Lanczos1, whose residuals at b* come from that rounding). At the starts the
    same ratio is far from small."""
    p = PROBLEMS[name]
    b = p.b_star
    J, r = p.jac(b), p.residuals(b)
    g = p.grad(b)
    np.testing.assert_allclose(g, 2 * J.T @ r)
    delta = 0.5 * 10.0 ** (np.floor(np.log10(np.abs(b))) - 10)
    bound = 1e-4 * np.linalg.norm(J) * np.linalg.norm(r) + 2 * np.linalg.norm(J, 2) ** 2 * np.linalg.norm(delta)
    assert np.linalg.norm(g) <= bound
    if name != "Lanczos1":
        assert np.linalg.norm(g) <= 1e-4 * np.linalg.norm(J) * np.linalg.norm(r)
    b0 = p.starts[0]
    J0, r0 = p.jac(b0), p.residuals(b0)
    assert np.linalg.norm(p.grad(b0)) > 1e-3 * np.linalg.norm(J0) * np.linalg.norm(r0)


@pytest.mark.parametrize("name, digits", [("Lanczos1", 13), ("Lanczos2", 6)])
def test_lanczos_data_from_generating_function(name, digits):
    """NIST: data generated from 0.0951 exp(-x) + 0.8607 exp(-3x) + 1.5576 exp(-5x) and
    rounded (Lanczos1 to 13 significant digits as stored, Lanczos2 to 6)."""
    p = PROBLEMS[name]
    x = p.x
    g = 0.0951 * np.exp(-x) + 0.8607 * np.exp(-3 * x) + 1.5576 * np.exp(-5 * x)
    half_unit = 0.5 * 10.0 ** (np.floor(np.log10(np.abs(p.y))) - (digits - 1))
    assert np.all(np.abs(p.y - g) <= half_unit * (1 + 1e-6) + 4 * EPS * np.abs(g))
    np.testing.assert_allclose(x, np.arange(24) * 0.05, rtol=0, atol=1e-15)


def test_lre_definition():
    assert nist.lre(1.0, 1.0) == 11
    assert nist.lre(1.001, 1.0) == pytest.approx(3.0)
    assert nist.lre(-2.5e-3, -2.5e-3 * (1 + 1e-6)) == pytest.approx(6.0, abs=1e-6)
    assert nist.lre(1.0 + 1e-14, 1.0) == 11                 # capped
    assert nist.lre(3.0, 1.0) == 0.0                         # relative error >= 1
    assert nist.lre(0.0, 1.0) == 0.0
    assert nist.lre(np.nan, 1.0) == 0.0
    assert nist.lre(1e-7, 0.0) == pytest.approx(7.0)         # absolute when certified is 0
    with pytest.raises(ValueError, match="certified value must be finite"):
        nist.lre(1.0, np.inf)


def test_lre_of_ssr_and_parameters_far_from_solution():
    p = PROBLEMS["Misra1c"]
    assert p.lre_ssr(p.starts[0]) == 0.0
    assert p.lre_params(p.b_star) == 11
    assert p.lre_params(p.b_star * (1 + 1e-5)) == pytest.approx(5.0, abs=1e-3)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown NIST problem 'Misra1a'"):
        nist.load("Misra1a")
    with pytest.raises(ValueError, match="Hahn1 has 7 parameters"):
        PROBLEMS["Hahn1"].ssr(np.ones(3))
    with pytest.raises(ValueError, match="difficulty must be"):
        nist.load_all("lower")
    assert nist.load("hahn1").name == "Hahn1"
    assert [p.name for p in nist.load_all("higher")] == list(nist.HIGHER)
