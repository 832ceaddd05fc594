"""Test problems with analytic derivatives (used by tests, benchmarks and examples).

``mgh_problems()``: More, Garbow & Hillstrom (1981), ACM TOMS 7(1), with standard starts.
``saddle_problems()``: strict-saddle starts (exactly at a saddle or on a symmetry line).
``cutest``: HEART6LS and MARATOSB (CUTEst), ``endings``: the honest-endings cases.
``large_problems()``: large-n problems (any n) with Hessian-vector products and sparsity
patterns (``large``).
"""
from ._base import Problem, by_name
from .large import LargeProblem, large_problem, large_problems
from .mgh import get_mgh_problem, mgh_problems
from .saddles import get_saddle_problem, saddle_problems

__all__ = ["Problem", "get_problem", "mgh_problems", "get_mgh_problem",
           "saddle_problems", "get_saddle_problem", "LargeProblem", "large_problem",
           "large_problems"]


def get_problem(name) -> Problem:
    """Return the problem called `name` from the More-Garbow-Hillstrom or the saddle set.

    Raises
    ------
    ValueError
        If no problem has that name.
    """
    return by_name(mgh_problems() + saddle_problems(), name)
