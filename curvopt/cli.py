"""Command line: ``python -m curvopt check MODULE:FUNCTION --x 1.0,2.0``.

Prints the certificate of :func:`curvopt.check.check` (or its ``to_dict()`` as JSON with
``--json``) and exits with a code scripts can gate on:

====  ==========================================================
code  meaning
====  ==========================================================
0     certified minimum
1     the user's function (or jac, hess) raised an exception, of any type
2     usage or input error (bad option, point, file, args; a module that cannot be
      imported, has a syntax error or fails at import)
3     saddle
4     maximum
5     degenerate (flat directions)
6     not stationary
7     inconclusive
====  ==========================================================

MODULE is a dotted module name importable from the current directory, or a path to a
``.py`` file; FUNCTION may be dotted (``Class.method``). Write negative first coordinates
as ``--x=-1,2`` (argparse would read ``-1,2`` as an option). With ``--json`` errors are
printed as JSON too: ``{"schema": 3, "error": {"kind", "exit_code", "type", "message"}}``.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np

EXIT_CODES = {"minimum": 0, "saddle": 3, "maximum": 4, "degenerate": 5,
              "not_stationary": 6, "inconclusive": 7}
EXIT_EVALUATION_ERROR = 1
EXIT_USAGE = 2


class InputError(ValueError):
    """Bad command-line input (exit code 2)."""


class UserFunctionError(Exception):
    """An exception raised inside the user's function (exit code 1)."""

    def __init__(self, name, exc):
        super().__init__(f"{name} raised {type(exc).__name__}: {exc}")
        self.name, self.original = name, exc

    def __reduce__(self):               # pickled back from a worker process (--workers)
        return type(self), (self.name, self.original)


class _Guarded:
    """A user callable whose exceptions are marked as the user's (not curvopt's). numba
    functions are left as they are (their compiled loops would be lost)."""

    def __init__(self, fun, name):
        self.fun, self.name = fun, name

    def __call__(self, *args):
        try:
            return self.fun(*args)
        except Exception as exc:  # noqa: BLE001 -- any failure of the user's code
            raise UserFunctionError(self.name, exc) from exc


def _guard(fun, name):
    from numba.extending import is_jitted
    return fun if fun is None or is_jitted(fun) else _Guarded(fun, name)


def _load_module(spec: str):
    if spec.endswith(".py"):
        path = Path(spec)
        if not path.is_file():
            raise InputError(f"no such file: {spec}")
        mspec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(mspec)
        try:
            mspec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 -- SyntaxError, errors at import
            raise InputError(f"cannot import {spec}: {type(exc).__name__}: {exc}") from exc
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(spec)
    except Exception as exc:  # noqa: BLE001 -- ImportError, SyntaxError, errors at import
        raise InputError(f"cannot import module {spec!r}: {type(exc).__name__}: {exc}") \
            from exc


def resolve(target: str):
    """The object named by ``MODULE:FUNCTION``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"target must be MODULE:FUNCTION, got {target!r}")
    obj = _load_module(module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"{target!r} is not callable")
    return obj


def _parse_x(text: str) -> np.ndarray:
    try:
        vals = json.loads(text) if text.strip().startswith("[") else [
            float(t) for t in text.split(",") if t.strip()]
        return np.asarray(vals, dtype=np.float64).ravel()
    except (ValueError, TypeError) as exc:
        raise InputError(f"--x must be comma-separated numbers, got {text!r}") from exc


def _read_x_file(name: str) -> np.ndarray:
    path = Path(name)
    if not path.is_file():
        raise InputError(f"no such file: {name}")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False).ravel()
        if path.suffix == ".txt":
            return np.loadtxt(path, ndmin=1).ravel()
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            data = data["x"] if isinstance(data, dict) else data
            return np.asarray(data, dtype=np.float64).ravel()
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"cannot read a point from {name}: {exc}") from exc
    raise InputError(f"--x-file must end in .npy, .txt or .json, got {name!r}")


def _parse_args(text: str | None) -> tuple:
    if text is None:
        return ()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"--args is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise InputError("--args must be a JSON list of extra arguments, e.g. '[[1, 2], 0.5]'")
    return tuple(np.asarray(a, dtype=np.float64) if isinstance(a, list) else a for a in data)


def build_parser() -> argparse.ArgumentParser:
    epilog = "exit codes: " + ", ".join(f"{v} {k}" for k, v in EXIT_CODES.items()) + \
        f", {EXIT_EVALUATION_ERROR} evaluation error, {EXIT_USAGE} usage/input error"
    parser = argparse.ArgumentParser(prog="python -m curvopt", description=__doc__.split("\n")[0],
                                     epilog=epilog)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="certify a point of FUNCTION", epilog=epilog)
    p.add_argument("target", metavar="MODULE:FUNCTION", help="fun(x, *args) -> float")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--x", help="the point, comma-separated (use --x=-1,2 for negatives)")
    where.add_argument("--x-file", help="the point from a .npy, .txt or .json file")
    p.add_argument("--args", help="extra arguments as a JSON list (lists become arrays)")
    p.add_argument("--jac", metavar="MODULE:FUNCTION", help="exact gradient")
    p.add_argument("--hess", metavar="MODULE:FUNCTION", help="exact Hessian")
    p.add_argument("--gtol", type=float, default=None,
                   help="optional absolute gradient tolerance (scipy's meaning)")
    p.add_argument("--names", help="comma-separated parameter names")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="evaluate f in N processes (-1: all cores); default serial")
    p.add_argument("--json", action="store_true", help="print the certificate as JSON")
    return parser


def _run(ns) -> int:
    from curvopt.check import check
    fun = _guard(resolve(ns.target), "the function")
    jac = _guard(resolve(ns.jac), "jac") if ns.jac else None
    hess = _guard(resolve(ns.hess), "hess") if ns.hess else None
    x = _parse_x(ns.x) if ns.x is not None else _read_x_file(ns.x_file)
    names = ns.names.split(",") if ns.names else None
    try:
        cert = check(fun, x, _parse_args(ns.args), jac=jac, hess=hess, gtol=ns.gtol,
                     names=names, workers=ns.workers)
    except UserFunctionError:
        raise
    except (ValueError, TypeError) as exc:
        raise InputError(str(exc)) from exc
    print(json.dumps(cert.to_dict(), indent=2) if ns.json else str(cert))
    return EXIT_CODES[cert.classification]


def _fail(ns, code, kind, exc, text):
    if ns is not None and getattr(ns, "json", False):
        from curvopt.certificate import SCHEMA
        print(json.dumps({"schema": SCHEMA, "error": {
            "kind": kind, "exit_code": code, "type": type(exc).__name__, "message": text}},
            indent=2))
    else:
        print(f"curvopt: {'error' if kind == 'usage' else 'evaluation failed'}: {text}",
              file=sys.stderr)
    return code


def main(argv=None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    try:
        ns = build_parser().parse_args(argv)
    except SystemExit as exc:                     # argparse: --help (0) or usage error (2)
        return int(exc.code or 0)
    try:
        return _run(ns)
    except InputError as exc:
        return _fail(ns, EXIT_USAGE, "usage", exc, str(exc))
    except UserFunctionError as exc:
        return _fail(ns, EXIT_EVALUATION_ERROR, "evaluation", exc.original, str(exc))
    except Exception as exc:  # noqa: BLE001 -- CLI boundary: anything else while evaluating
        return _fail(ns, EXIT_EVALUATION_ERROR, "evaluation", exc,
                     f"{type(exc).__name__}: {exc}")
