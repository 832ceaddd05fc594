"""Test problems with analytic derivatives (used by tests, benchmarks and examples).

``mgh_problems()``: More, Garbow & Hillstrom (1981), ACM TOMS 7(1), with standard starts.
``saddle_problems()``: strict-saddle starts (exactly at a saddle or on a symmetry line).
"""
from ._base import Problem, get_problem
from .mgh import get_mgh_problem, mgh_problems
from .saddles import get_saddle_problem, saddle_problems

__all__ = ["Problem", "get_problem", "mgh_problems", "get_mgh_problem",
           "saddle_problems", "get_saddle_problem"]
