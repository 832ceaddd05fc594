"""Helpers shared by the example scripts: command line, output folder, the curvopt method.

Every example is a script with ``main(argv=None) -> dict``; ``--quick`` makes it small
enough for the test suite (``tests/test_examples.py``). Figures go to
``examples/output/`` (git-ignored) through matplotlib's Agg backend, never to a window.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("curvopt") is None:  # run from a checkout, not installed
    sys.path.insert(0, str(HERE.parent))
OUTPUT = HERE / "output"
DATA = HERE / "data"


def parse_args(argv, description, add_arguments=None):
    """Parse the common ``--quick`` and ``--no-plot`` flags (plus script-specific ones).

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments; None means ``sys.argv[1:]``.
    description : str
        Shown by ``--help``.
    add_arguments : callable, optional
        ``add_arguments(parser)`` adds the script's own options.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and budgets, for the test suite")
    parser.add_argument("--no-plot", action="store_true", help="do not write PNG files")
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args(argv)


def output_path(name):
    """Path of a figure in ``examples/output/`` (the folder is created when missing)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / name


def use_agg():
    """Select matplotlib's non-interactive Agg backend (scripts save PNGs, never show)."""
    import matplotlib
    matplotlib.use("Agg", force=True)


def curvopt_method():
    """The object to pass as ``scipy.optimize.minimize(..., method=...)``.

    The callable module ``curvopt`` itself (``method=curvopt``), as a user writes it.
    """
    import curvopt
    return curvopt


def banner(text):
    """Print a section title."""
    print()
    print(text)
    print("-" * len(text))


def load_mtcars():
    """mpg, drat and wt of the 32 cars of R's ``mtcars`` (Henderson & Velleman 1981).

    Returns
    -------
    dict of ndarray
        ``{"car": names, "mpg": ..., "drat": ..., "wt": ...}`` read from
        ``examples/data/mtcars.csv``.
    """
    rows = np.genfromtxt(DATA / "mtcars.csv", delimiter=",", names=True, dtype=None,
                         encoding="utf-8")
    return {"car": rows["car"].astype(str), "mpg": rows["mpg"].astype(float),
            "drat": rows["drat"].astype(float), "wt": rows["wt"].astype(float)}


def numba_disabled():
    """True when numba's JIT is switched off (``NUMBA_DISABLE_JIT=1``)."""
    return os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
