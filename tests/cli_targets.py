"""Small objectives for the CLI tests (``python -m curvopt check cli_targets:NAME``).

Each has a known classification at the point the tests pass; see tests/test_cli.py.
"""
import numpy as np


def bowl(x):
    """Minimum at (1, -2): Hessian diag(2, 20)."""
    return (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2


def bowl_grad(x):
    return np.array([2.0 * (x[0] - 1.0), 20.0 * (x[1] + 2.0)])


def bowl_hess(x):
    return np.diag([2.0, 20.0])


def saddle(x):
    """x^2 - y^2 + y^4/4: saddle at (0, 0) with negative curvature along (0, 1)."""
    return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4.0


def cap(x):
    """Maximum at 0."""
    return -(x[0] ** 2) - 2.0 * x[1] ** 2


def trough(x):
    """Degenerate at any (a, b) with a = 0: f does not depend on x[1]."""
    return x[0] ** 2


def ridge(x):
    """-x^2, flat in x[1]: negative curvature plus a flat direction (inconclusive)."""
    return -(x[0] ** 2) + 0.0 * x[1]


def weighted(x, w, c):
    """sum(w * (x - c)^2), extra arguments from --args: minimum at x = c."""
    return float(np.sum(np.asarray(w) * (x - c) ** 2))


def log_of_first(x):
    """log(x[0]): not finite for x[0] <= 0."""
    return float(np.log(x[0])) if x[0] > 0 else float("nan")


def broken(x):
    raise RuntimeError("this objective always fails")


not_callable = 3.0


def raises_value_error(x):
    """The user's own ValueError (e.g. a failed domain check inside a model)."""
    raise ValueError("negative variance in the model")


def raises_type_error(x):
    return None + x[0]
