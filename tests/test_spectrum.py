"""Tests of curvopt.spectrum: Weyl bounds, PSD utilities, Lanczos extremes.

References are exact: matrices built as Q diag(lam) Q' with known lam, perturbations drawn
inside a known elementwise bound, and numpy's dense eigh in the same run. Seeds are fixed.
"""
import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from curvopt.spectrum import (lanczos_extremes, nearest_psd, shift_to, spectrum_of,
                              symmetrize, weyl_bound)


def known(lam, seed=0):
    lam = np.asarray(lam, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    return symmetrize((Q * lam) @ Q.T), Q


@pytest.mark.parametrize("seed", range(5))
def test_weyl_bound_covers_every_eigenvalue_shift(seed):
    rng = np.random.default_rng(seed)
    n = 12
    H, _ = known(rng.uniform(-3, 3, n), seed)
    B = rng.uniform(0, 1e-3, (n, n))
    B = np.maximum(B, B.T)
    E = symmetrize(B * rng.uniform(-1, 1, (n, n)))      # |E| <= B elementwise
    sp = spectrum_of(H + E, B)
    shift = np.abs(sp.lam - np.linalg.eigvalsh(H))
    assert np.all(shift <= sp.lam_err)
    assert sp.weyl <= np.linalg.norm(B, "fro") * (1 + 1e-12)
    # the sign pattern E = B attains ||E||_2 = ||B||_2: the bound is sharp there
    assert abs(np.linalg.norm(B, 2) - sp.weyl) <= 1e-12 * sp.weyl


def test_spectrum_record_fields():
    lam = np.array([-2.0, 0.0, 1e-3, 5.0])
    H, Q = known(lam, 3)
    sp = spectrum_of(H, np.full((4, 4), 1e-6))
    assert np.allclose(sp.lam, lam, atol=1e-14)
    assert np.allclose(np.abs(np.sum(sp.V * Q, axis=0)), 1.0)   # same eigenvectors
    assert sp.floor == pytest.approx(4 * np.finfo(float).eps * 5.0)
    assert sp.lam_err == pytest.approx(4e-6 + sp.floor)
    assert sp.negative.tolist() == [True, False, False, False]
    assert sp.positive.tolist() == [False, False, True, True]
    assert sp.zero.tolist() == [False, True, False, False]
    assert sp.rank == 3
    assert sp.cond > 1e14        # the computed zero eigenvalue is only rounding-small


def test_exact_matrix_has_only_rounding_floor_and_float32_uses_its_eps():
    H, _ = known([1e-10, 1.0, 2.0])
    sp = spectrum_of(H)
    assert sp.weyl == 0.0 and sp.lam_err == sp.floor
    assert sp.positive.all()                     # 1e-10 >> 3 eps * 2
    sp32 = spectrum_of(H.astype(np.float32))
    assert sp32.floor == pytest.approx(3 * np.finfo(np.float32).eps * 2.0, rel=1e-6)
    assert not sp32.positive[0]


def test_nan_error_means_nothing_certified():
    H, _ = known([-1.0, 1.0])
    B = np.array([[1e-8, np.nan], [np.nan, 1e-8]])
    sp = spectrum_of(H, B)
    assert np.isnan(sp.lam_err) and not sp.estimated
    assert not (sp.negative.any() or sp.positive.any() or sp.zero.any())
    assert sp.rank == 2


@pytest.mark.parametrize("bad, msg", [
    (np.ones((2, 3)), "square"),
    (np.array([[1.0, np.inf], [np.inf, 1.0]]), "non-finite"),
])
def test_bad_matrix(bad, msg):
    with pytest.raises(ValueError, match=msg):
        spectrum_of(bad)


def test_bad_error_shape():
    with pytest.raises(ValueError, match="H_err has shape"):
        spectrum_of(np.eye(3), np.zeros((2, 2)))


def test_nearest_psd_is_higham_projection():
    rng = np.random.default_rng(7)
    lam = np.array([-1.0, -1e-4, 0.5, 2.0, 3.0])
    H, Q = known(lam, 7)
    P = nearest_psd(H)
    assert np.allclose(P, (Q * np.maximum(lam, 0)) @ Q.T, atol=1e-13)
    dist = np.linalg.norm(H - P, "fro")
    assert dist == pytest.approx(np.sqrt(1.0 + 1e-8), rel=1e-10)   # ||min(lam, 0)||_2
    for _ in range(50):                        # no random PSD matrix is closer
        A = rng.standard_normal((5, 5))
        assert np.linalg.norm(H - (P + 0.1 * A @ A.T), "fro") >= dist
    assert np.linalg.eigvalsh(nearest_psd(H, floor=1e-2))[0] == pytest.approx(1e-2)


def test_shift_to_moves_all_eigenvalues_equally():
    lam = np.array([-4e-4, 1e-5, 1.0])
    H, _ = known(lam, 2)
    S = shift_to(H, 1e-3)
    assert np.allclose(np.linalg.eigvalsh(S), lam + (1e-3 + 4e-4), atol=1e-14)
    assert np.allclose(S - H, (1e-3 + 4e-4) * np.eye(3), atol=1e-14)


def test_lanczos_matches_dense_eigh_on_hessian_vector_products():
    rng = np.random.default_rng(11)
    n = 60
    H, _ = known(rng.uniform(-1, 1, n), 11)
    ref = np.linalg.eigvalsh(H)
    for op in (lambda v: H @ v, aslinearoperator(H), H):
        ex = lanczos_extremes(op, n, k=2, seed=5)
        assert np.allclose(ex.smallest, ref[:2], atol=1e-10)
        assert np.allclose(ex.largest, ref[-2:], atol=1e-10)
        assert np.allclose(H @ ex.V_smallest, ex.V_smallest * ex.smallest, atol=1e-8)
        assert ex.nmatvec > 0
    a = lanczos_extremes(lambda v: H @ v, n, which="SA", seed=3)
    b = lanczos_extremes(lambda v: H @ v, n, which="SA", seed=3)
    assert a.largest is None and np.array_equal(a.smallest, b.smallest)


def test_power_iteration_finds_largest_magnitude_lanczos_finds_largest_value():
    # |lam| ratio 1.0 / 1.2 so that 300 power steps converge; the note's -1.002 / 1.001
    # behaves the same, only slower
    lam = np.concatenate([[-1.2], np.linspace(-0.5, 0.5, 38), [1.0]])
    H, _ = known(lam, 4)
    v = np.random.default_rng(0).standard_normal(lam.size)
    for _ in range(300):
        v = H @ v
        v /= np.linalg.norm(v)
    rayleigh = v @ H @ v
    assert rayleigh == pytest.approx(-1.2, abs=1e-8)     # largest |lam|, not largest lam
    ex = lanczos_extremes(lambda u: H @ u, lam.size, seed=0)
    assert ex.largest[0] == pytest.approx(1.0, abs=1e-10)
    assert ex.smallest[0] == pytest.approx(-1.2, abs=1e-10)


def test_lanczos_small_dimension_dense_fallback_and_errors():
    H, _ = known([-3.0, 1.0, 2.0], 1)
    ex = lanczos_extremes(lambda v: H @ v, 3, k=1)
    assert ex.smallest[0] == pytest.approx(-3.0) and ex.largest[0] == pytest.approx(2.0)
    assert ex.nmatvec == 3
    with pytest.raises(ValueError, match="which"):
        lanczos_extremes(H, 3, which="LM")
    with pytest.raises(ValueError, match="k <= n"):
        lanczos_extremes(H, 3, k=4)
    with pytest.raises(ValueError, match="shape"):
        lanczos_extremes(np.eye(4), 3)
    with pytest.raises(ValueError, match="Hessian-vector product has shape"):
        lanczos_extremes(lambda v: np.ones(2), 3)


def test_weyl_bound_nan():
    assert np.isnan(weyl_bound(np.array([[np.nan]])))
    assert weyl_bound(np.zeros((0, 0))) == 0.0


@pytest.mark.parametrize("with_jac", [True, False])
def test_lanczos_on_finite_difference_hessian_vector_products(with_jac):
    """Extended Rosenbrock (n = 40) at a seeded indefinite point: Lanczos on curvopt's
    FD Hessian-vector products agrees with dense eigh of scipy's analytic rosen_hess to
    within the largest reported HVP error per unit vector (a perturbation of the operator
    of that 2-norm moves a Ritz value by at most that much)."""
    from scipy.optimize import rosen, rosen_der, rosen_hess

    from curvopt.differentiate import hessp
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.5, 40)
    ref = np.linalg.eigvalsh(rosen_hess(x))
    errs = []

    def hv(v):
        r = hessp(rosen, x, v, jac=rosen_der if with_jac else None)
        errs.append(np.linalg.norm(r.error) / np.linalg.norm(v))
        return r.value

    ex = lanczos_extremes(hv, 40, seed=0)
    assert ref[0] < 0 < ref[-1]
    assert abs(ex.smallest[0] - ref[0]) <= max(errs)
    assert abs(ex.largest[0] - ref[-1]) <= max(errs)
