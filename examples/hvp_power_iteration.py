"""Case 2: the largest Hessian eigenvalue from Hessian-vector products.

Power iteration v <- H v / ||H v|| multiplies the component of v along eigenvector k by
lam_k at every step, so it converges to the eigenvalue of largest *magnitude* (Golub &
Van Loan 2013, sec. 7.3.1), at the rate |lam_2| / |lam_1|. On a nonconvex loss that may be
a negative eigenvalue: here lam = -3 dominates lam_max = +2, and power iteration returns -3.
Lanczos (ARPACK's implicitly restarted Lanczos through ``scipy.sparse.linalg.eigsh``,
``curvopt.spectrum.lanczos_extremes``) finds either end of the spectrum from the same
products. Both are checked against a dense ``numpy.linalg.eigh`` on a mid-sized problem.

The loss: f(x) = x'Ax / 2 + gamma sum(x_i**4) / 4 with A = Q diag(lam) Q' (Q orthogonal from
a seeded QR), evaluated at a seeded point x0, so H(x0) = A + 3 gamma diag(x0**2). Hessian-vector
products come (a) from the analytic formula and (b) from central differences of the
gradient, (grad(x + e v) - grad(x - e v)) / 2e (``curvopt.differentiate.hessp``), the
finite-difference twin of the double-backward product of the case.

Run: ``python examples/hvp_power_iteration.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from _common import banner, output_path, parse_args, use_agg

SEED = 2  # np.random.default_rng seed for Q, x0 and the power-iteration start vector
GAMMA = 0.05


@dataclass(frozen=True)
class Problem:
    """The quadratic-plus-quartic loss at a point."""

    A: np.ndarray
    x0: np.ndarray
    gamma: float

    def f(self, x):
        return 0.5 * float(x @ (self.A @ x)) + 0.25 * self.gamma * float(np.sum(x ** 4))

    def grad(self, x):
        return self.A @ x + self.gamma * x ** 3

    def hessp(self, v):
        return self.A @ v + 3.0 * self.gamma * self.x0 ** 2 * v

    def hess(self):
        return self.A + np.diag(3.0 * self.gamma * self.x0 ** 2)


def make_problem(n, seed=SEED):
    """A with one dominant negative eigenvalue -3, the largest positive +2, the rest inside."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([[-3.0, 2.0], np.linspace(-1.0, 1.5, n - 2)])
    A = (Q * lam) @ Q.T
    return Problem(A=0.5 * (A + A.T), x0=rng.uniform(-0.5, 0.5, n), gamma=GAMMA)


@dataclass(frozen=True)
class PowerIteration:
    """Power-iteration outcome: the Rayleigh quotients per iteration and the estimate."""

    lam: float
    rayleigh: np.ndarray
    nmatvec: int
    converged: bool


def power_iteration(hessp, n, maxiter=200, tol=1e-10, seed=SEED):
    """Rayleigh quotient v'Hv of the normalized iterates v <- Hv / ||Hv||."""
    v = np.random.default_rng(seed + 1).random(n)
    v /= np.linalg.norm(v)
    history = []
    for _ in range(maxiter):
        w = hessp(v)
        history.append(float(v @ w))
        v = w / np.linalg.norm(w)
        if len(history) > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-1]):
            return PowerIteration(history[-1], np.array(history), len(history), True)
    return PowerIteration(history[-1], np.array(history), len(history), False)


def fd_hessp(problem):
    """v -> H v from central differences of the gradient (curvopt.differentiate.hessp)."""
    from curvopt import hessp
    return lambda v: hessp(problem.f, problem.x0, v, jac=problem.grad).value


def compare(problem, maxiter):
    """Power iteration and Lanczos (exact and FD products) against dense eigh."""
    from curvopt import lanczos_extremes
    n = problem.x0.size
    lam = np.linalg.eigvalsh(problem.hess())
    power = power_iteration(problem.hessp, n, maxiter=maxiter)
    exact = lanczos_extremes(problem.hessp, n)
    fd = lanczos_extremes(fd_hessp(problem), n)
    banner(f"extreme eigenvalues of a {n} x {n} Hessian")
    print(f"dense eigh:                 lam_min = {lam[0]: .12f}   lam_max = {lam[-1]: .12f}")
    print(f"power iteration:            {power.lam: .12f} after {power.nmatvec} products "
          f"(converged: {power.converged}) -> the largest |lam|, which is lam_min here")
    for name, ext in (("Lanczos, exact Hv:", exact), ("Lanczos, FD-of-gradient Hv:", fd)):
        print(f"{name:27s} lam_min = {ext.smallest[0]: .12f}   lam_max = {ext.largest[0]: .12f}"
              f"   ({ext.nmatvec} products)")
    rel = lambda a, b: abs(a - b) / abs(b)  # noqa: E731
    return {"eigh": (lam[0], lam[-1]), "power": power.lam, "power_converged": power.converged,
            "power_rayleigh": power.rayleigh,
            "power_rel_to_largest_abs": rel(power.lam, lam[np.argmax(np.abs(lam))]),
            "lanczos_rel": (rel(exact.smallest[0], lam[0]), rel(exact.largest[0], lam[-1])),
            "lanczos_fd_rel": (rel(fd.smallest[0], lam[0]), rel(fd.largest[0], lam[-1])),
            "lanczos_matvecs": exact.nmatvec}


def plot(out, path):
    use_agg()
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    r = out["power_rayleigh"]
    ax.plot(np.arange(1, r.size + 1), r, "o-", ms=3, color="#4575b4",
            label="power iteration: Rayleigh quotient v'Hv")
    ax.axhline(out["eigh"][0], color="#d73027", ls="--",
               label=r"$\lambda_{min}$ (eigh, Lanczos SA)")
    ax.axhline(out["eigh"][1], color="#1a9850", ls="--",
               label=r"$\lambda_{max}$ (eigh, Lanczos LA)")
    ax.set_xlabel("Hessian-vector products")
    ax.set_ylabel("eigenvalue estimate")
    ax.set_title(r"power iteration finds the largest $|\lambda|$, not the largest $\lambda$")
    ax.legend(loc="center right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"figure written to {path}")


def main(argv=None):
    """Run the comparison; return outcomes for the tests."""
    args = parse_args(argv, __doc__.splitlines()[0])
    problem = make_problem(120 if args.quick else 400)
    out = compare(problem, maxiter=300)
    if not args.no_plot:
        plot(out, output_path("hvp_power_iteration.png"))
    return out


if __name__ == "__main__":
    main()
