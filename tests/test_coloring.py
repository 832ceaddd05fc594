"""Tests of curvopt.coloring: CPR groups, star colouring, direct recovery, pattern stencil.

Colourings are checked against their definitions with brute-force checkers written here
(disjoint row patterns per CPR group; proper colouring without a 2-coloured path on 4
vertices), recovery against exact products H S of seeded random H and against central
differences of analytic gradients with a Richardson bound on B.  Seeds are fixed.
"""
import itertools
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from curvopt.coloring import cpr_coloring, hess_pattern, pattern_stencil, star_coloring

EPS = np.finfo(float).eps


# -- patterns ------------------------------------------------------------------------
def band(n, w):
    return sp.diags([np.ones(n - abs(k)) for k in range(-w, w + 1)], list(range(-w, w + 1)))


def arrowhead(n):
    A = np.eye(n, dtype=bool)
    A[-1, :] = A[:, -1] = True           # the hub is the LAST variable
    return A


def block_diagonal(nblocks, b):
    return sp.block_diag([np.ones((b, b))] * nblocks)


def random_pattern(n, density, seed):
    return sp.random(n, n, density=density, random_state=np.random.default_rng(seed),
                     data_rvs=lambda k: np.ones(k))


PATTERNS = {
    "band1": band(30, 1), "band2": band(30, 2), "band5": band(40, 5),
    "arrowhead": arrowhead(25), "blockdiag": block_diagonal(6, 4),
    "random": random_pattern(40, 0.06, 3), "dense": np.ones((12, 12)),
}


# -- definitions, checked directly ---------------------------------------------------
def assert_cpr(P, colors):
    """Columns of one group have disjoint row patterns: every row meets a group <= once."""
    D = P.toarray()
    for c in np.unique(colors):
        assert D[:, colors == c].sum(axis=1).max() <= 1, f"group {c} shares a row"


def assert_star(P, colors):
    """Proper colouring, and no path a-b-c-d (distinct vertices) coloured x, y, x, y."""
    D = P.toarray() & ~np.eye(P.shape[0], dtype=bool)
    nbr = [np.flatnonzero(r) for r in D]
    for b, c in zip(*np.nonzero(D)):
        assert colors[b] != colors[c], f"edge ({b}, {c}) is monochromatic"
        for a in nbr[b]:
            for d in nbr[c]:
                if len({a, b, c, d}) == 4 and colors[a] == colors[c] and colors[d] == colors[b]:
                    pytest.fail(f"2-coloured path {a}-{b}-{c}-{d}")


@pytest.mark.parametrize("order", ["largest_first", "natural"])
@pytest.mark.parametrize("name", PATTERNS)
def test_colourings_satisfy_their_definitions(name, order):
    P = hess_pattern(PATTERNS[name])
    cpr, star = cpr_coloring(P, order=order), star_coloring(P, order=order)
    assert_cpr(P, cpr.colors)
    assert_star(P, star.colors)
    for col in (cpr, star):
        assert col.ncolors == col.colors.max() + 1 and col.colors.min() == 0
        assert col.order == order and col.n == P.shape[0]


def test_colour_counts():
    for w, name in [(1, "band1"), (2, "band2"), (5, "band5")]:
        cpr, star = cpr_coloring(PATTERNS[name]), star_coloring(PATTERNS[name])
        assert cpr.ncolors <= 2 * w + 1 and star.ncolors <= cpr.ncolors
    n = 25
    assert cpr_coloring(PATTERNS["arrowhead"]).ncolors == n     # the hub row meets all columns
    assert star_coloring(PATTERNS["arrowhead"]).ncolors == 2    # hub first (largest degree)
    assert star_coloring(PATTERNS["arrowhead"], order="natural").ncolors == n  # hub last
    for name, k in [("blockdiag", 4), ("dense", 12)]:
        assert cpr_coloring(PATTERNS[name]).ncolors == star_coloring(PATTERNS[name]).ncolors == k
    assert star_coloring(PATTERNS["random"]).ncolors <= cpr_coloring(PATTERNS["random"]).ncolors


def test_deterministic():
    a, b = star_coloring(PATTERNS["random"]), star_coloring(PATTERNS["random"])
    assert np.array_equal(a.colors, b.colors)
    assert np.array_equal(cpr_coloring(PATTERNS["random"]).colors,
                          cpr_coloring(PATTERNS["random"]).colors)


# -- pattern input -------------------------------------------------------------------
def test_pattern_symmetrized_with_diagonal():
    U = np.triu(np.ones((5, 5)), 2)                          # no diagonal, upper only
    P = hess_pattern(U)
    assert sp.issparse(P) and P.format == "csr" and P.dtype == bool
    D = P.toarray()
    assert np.array_equal(D, D.T) and D.diagonal().all() and D[3, 0] and not D[1, 0]
    S = sp.csr_matrix(([1.0, 0.0], ([0, 1], [2, 3])), shape=(4, 4))   # stored zero at (1, 3)
    D = hess_pattern(S, n=4).toarray()
    assert D[2, 0] and not D[1, 3] and not D[3, 1]


@pytest.mark.parametrize("bad, n, exc, msg", [
    (np.ones((3, 4)), None, ValueError, "square"),
    (np.ones(4), None, ValueError, "2-D"),
    (np.ones((3, 3)), 4, ValueError, "x has n = 4"),
    (sp.eye(3), 5, ValueError, "x has n = 5"),
    (np.array([["a", "b"], ["c", "d"]]), None, TypeError, "dtype"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), None, ValueError, "NaN"),
])
def test_pattern_errors(bad, n, exc, msg):
    with pytest.raises(exc, match=msg):
        hess_pattern(bad, n)


def test_other_errors():
    with pytest.raises(ValueError, match="order must be one of"):
        star_coloring(np.eye(3), order="random")
    col = cpr_coloring(band(6, 1))
    with pytest.raises(ValueError, match="shape"):
        col.recover(np.zeros((6, col.ncolors + 1)))
    with pytest.raises(ValueError, match=">= 0"):
        col.recover(np.zeros((6, 3)), B_err=-np.ones((6, 3)))
    with pytest.raises(ValueError, match="h must be positive"):
        col.recover(np.zeros((6, 3)), h=np.ones(5))
    with pytest.raises(ValueError, match="out of range"):
        col.direction(3)
    with pytest.raises(ValueError, match="max_rows"):
        next(pattern_stencil(np.eye(3)).points(np.zeros(3), 0.1, 0.2, max_rows=0))


# -- recovery from exact products ----------------------------------------------------
def random_hessian(P, seed):
    """Symmetric H with exactly the pattern P (no structural zero lost)."""
    rng = np.random.default_rng(seed)
    U = sp.triu(P, format="coo")
    vals = rng.uniform(0.5, 2.0, U.nnz) * rng.choice([-1.0, 1.0], U.nnz)
    U = sp.csr_array((vals, (U.row, U.col)), shape=P.shape)
    return sp.csr_array(U + sp.triu(U, 1).T)


@pytest.mark.parametrize("kind", ["cpr", "star"])
@pytest.mark.parametrize("name", PATTERNS)
def test_recovery_exact_products(name, kind):
    P = hess_pattern(PATTERNS[name])
    col = (cpr_coloring if kind == "cpr" else star_coloring)(P)
    H = random_hessian(P, 7)
    h = np.random.default_rng(1).uniform(0.5, 2.0, P.shape[0])
    B = (H @ col.seed_matrix(h)).toarray()
    assert np.allclose(B[:, 1], H @ col.direction(1, h), rtol=1e-15, atol=0)
    R, R_err = col.recover(B, h, B_err=np.zeros_like(B))
    assert R.format == "csr" and R.nnz == P.nnz
    assert abs(R - R.T).max() == 0.0
    assert abs(R - H).max() <= 1e-14 * abs(H).max()
    assert R_err.max() <= 1e-14 * abs(H).max()


@pytest.mark.parametrize("kind", ["cpr", "star"])
@pytest.mark.parametrize("name", ["band2", "arrowhead", "random"])
def test_bound_propagates_through_recovery(name, kind):
    """B within a known elementwise bound of H S => recovered H within the returned bound."""
    P = hess_pattern(PATTERNS[name])
    col = (cpr_coloring if kind == "cpr" else star_coloring)(P)
    H, rng = random_hessian(P, 2), np.random.default_rng(5)
    h = rng.uniform(1e-3, 1e-2, P.shape[0])
    B = (H @ col.seed_matrix(h)).toarray()
    E = rng.uniform(0.0, 1e-6, B.shape)
    R, R_err = col.recover(B + E * rng.uniform(-1, 1, B.shape), h, B_err=E)
    assert np.all(abs(R - H).toarray() <= R_err.toarray())
    assert R_err.max() <= 1e-6 / h.min() + abs(R - H).max()   # not looser than it needs


# -- recovery from central differences of an analytic gradient -----------------------
def cosh_band(n, w, seed):
    """f = sum_k cosh(a_k . x) - sum_i cos(x_i): (g, H) exact, half-bandwidth w."""
    rng = np.random.default_rng(seed)
    A = sp.csr_array(sp.diags([rng.uniform(-0.6, 0.6, n - q) for q in range(w + 1)],
                              list(range(w + 1)), shape=(n - w, n)))

    def grad(x):
        return A.T @ np.sinh(A @ x) + np.sin(x)

    def hess(x):
        return sp.csr_array(A.T @ sp.diags(np.cosh(A @ x)) @ A + sp.diags(np.cos(x)))
    return grad, hess


def chained_rosenbrock(n):
    """f = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2: tridiagonal H."""
    def grad(x):
        r = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x)
        g[:-1] += -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * r
        return g

    def hess(x):
        d = np.zeros_like(x)
        d[:-1] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
        d[1:] += 200.0
        off = -400.0 * x[:-1]
        return sp.csr_array(sp.diags([off, d, off], [-1, 0, 1]))
    return grad, hess


def compressed_fd(col, grad, x, h):
    """B[:, c] = (g(x + d_c) - g(x - d_c)) / 2 and max |g| over the points."""
    B, gmax = np.empty((x.size, col.ncolors)), 0.0
    for c in range(col.ncolors):
        d = col.direction(c, h)
        gp, gm = grad(x + d), grad(x - d)
        B[:, c] = 0.5 * (gp - gm)
        gmax = max(gmax, np.abs(gp).max(), np.abs(gm).max())
    return B, gmax


@pytest.mark.parametrize("kind", ["cpr", "star"])
@pytest.mark.parametrize("problem, w", [("rosenbrock", 1), ("cosh", 2), ("cosh", 5)])
def test_recovery_central_differences(problem, w, kind):
    n = 60
    grad, hess = chained_rosenbrock(n) if problem == "rosenbrock" else cosh_band(n, w, w)
    rng = np.random.default_rng(11)
    x = np.round(rng.uniform(-1.0, 1.0, n) * 2 ** 20) / 2 ** 20    # x +- h, x +- 2h exact
    h = 2.0 ** -10
    col = (cpr_coloring if kind == "cpr" else star_coloring)(band(n, w))
    B, gmax = compressed_fd(col, grad, x, h)
    B2, gmax2 = compressed_fd(col, grad, x, 2 * h)
    # Richardson: B - H S = C h^3 + O(h^5) and B2 / 2 - H S = 4 C h^3 + ..., so
    # |B - B2 / 2| / 3 estimates the truncation of B; safety factor 3 + a rounding term
    B_err = 3.0 * np.abs(B - 0.5 * B2) / 3.0 + 10.0 * EPS * max(gmax, gmax2)
    R, R_err = col.recover(B, h, B_err=B_err)
    Ht = hess(x)
    err = abs(R - Ht).toarray()
    scale = abs(Ht).max()
    assert err.max() <= 10 * h ** 2 * scale        # truncation O(h^2), h^2 ~ 1e-6
    assert err.max() > 1e-3 * h ** 2 * scale       # ... and not rounding-level: a real test
    assert np.all(err <= R_err.toarray())
    assert R_err.max() <= 100 * err.max()              # and not grossly pessimistic


# -- function values only: the pattern-restricted 4-point stencil --------------------
def dense_points(x, h, h2):
    """The dense stencil's points in the flat order of PatternStencil (reference loop)."""
    n = x.size
    xp, xm, xp2, xm2 = x + h, x - h, x + h2, x - h2
    rows = []
    for src in (xp2, xm2):
        for i in range(n):
            y = x.copy()
            y[i] = src[i]
            rows.append(y)
    for i, j in zip(*np.triu_indices(n, 1)):
        for a, b in [(xp, xp), (xp, xm), (xm, xp), (xm, xm)]:
            y = x.copy()
            y[i], y[j] = a[i], b[j]
            rows.append(y)
    return np.array(rows)


def test_pattern_stencil_dense_matches_combine_hessian():
    n = 7
    rng = np.random.default_rng(4)
    st = pattern_stencil(np.ones((n, n)))
    I, J = np.triu_indices(n, 1)
    assert np.array_equal(st.I, I) and np.array_equal(st.J, J)
    x = rng.uniform(-2, 2, n)
    h = (x + 1e-3) - x
    h2 = (x + 2 * h) - x
    X = np.concatenate([blk for _, blk in st.points(x, h, h2, max_rows=5)])
    assert np.array_equal(X, dense_points(x, h, h2))
    f = lambda y: np.sin(y @ np.arange(1, n + 1)) + (y ** 4).sum() + y[0] * y[3] ** 3
    vals = np.array([f(y) for y in X])
    f0 = f(x)
    fp2, fm2, Fpp, Fpm, Fmp, Fmm = st.split(vals)
    H, g = st.combine(f0, fp2, fm2, Fpp, Fpm, Fmp, Fmm, h, h2)
    from curvopt.fd.stencils import assemble, combine_pairs     # the dense formulas
    d, o, gd = combine_pairs(f0, vals, I.astype(np.int64), J.astype(np.int64), h, h2)[:3]
    Hd = assemble(n, I, J, d, o)
    assert np.allclose(H.toarray(), Hd, rtol=1e-14, atol=1e-14 * abs(Hd).max())
    assert np.allclose(g, gd, rtol=1e-14, atol=0)


def test_pattern_stencil_banded_quadratic_exact():
    n, w = 30, 2
    H = random_hessian(hess_pattern(band(n, w)), 9)
    rng = np.random.default_rng(8)
    b, x = rng.standard_normal(n), rng.uniform(-1, 1, n)
    f = lambda y: 0.5 * y @ (H @ y) + b @ y
    st = pattern_stencil(band(n, w), n=n)
    h = (x + 2.0 ** -6) - x
    h2 = (x + 2 * h) - x
    vals = np.empty(st.num_points)
    for start, X in st.points(x, h, h2, max_rows=13):
        vals[start:start + len(X)] = [f(y) for y in X]
    R, g = st.combine(f(x), *st.split(vals), h, h2)
    assert R.nnz == hess_pattern(band(n, w)).nnz
    scale = abs(f(x)) + 1.0
    assert abs(R - H).max() <= 1e3 * EPS * scale / h.min() ** 2       # rounding only
    assert np.allclose(g, H @ x + b, rtol=0, atol=1e3 * EPS * scale / h2.min())


@pytest.mark.parametrize("name", ["band2", "arrowhead", "random", "dense"])
@pytest.mark.parametrize("max_rows", [1, 7, 1000])
def test_pattern_stencil_counts_and_chunks(name, max_rows):
    P = hess_pattern(PATTERNS[name])
    n, st = P.shape[0], pattern_stencil(P)
    m_upper = sp.triu(P, 1).nnz
    assert st.m == m_upper and st.num_points == 4 * m_upper + 2 * n   # + 1 for f(x)
    x = np.linspace(-1, 1, n)
    seen = 0
    for start, X in st.points(x, 1e-3, 2e-3, max_rows=max_rows):
        assert start == seen and 1 <= len(X) <= max_rows and X.shape[1] == n
        moved = (X != x).sum(axis=1)
        assert np.all((moved >= 1) & (moved <= 2))
        seen += len(X)
    assert seen == st.num_points


# -- large n: nothing n x n ----------------------------------------------------------
def test_large_banded_no_dense_arrays():
    n, w = 10 ** 5, 2
    P = band(n, w)
    tracemalloc.start()
    try:
        cpr, star = cpr_coloring(P), star_coloring(P)
        H = random_hessian(hess_pattern(P), 0)
        for col in (cpr, star):
            B = (H @ col.seed_matrix(1.0)).toarray()
            R, R_err = col.recover(B, 1.0, B_err=np.zeros_like(B))
            assert abs(R - H).max() <= 1e-14 * abs(H).max()
        st = pattern_stencil(P)
        chunks = list(itertools.islice(st.points(np.zeros(n), 1e-3, 2e-3, max_rows=4), 3))
        Hq, _ = st.combine(0.0, np.zeros(n), np.zeros(n), *[np.zeros(st.m)] * 4, 1.0, 2.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cpr.ncolors <= 2 * w + 1 and star.ncolors <= cpr.ncolors
    assert len(chunks) == 3 and chunks[0][1].shape == (4, n) and Hq.nnz == P.nnz
    assert peak < 400e6        # one dense n x n bool array alone would be 10 GB
