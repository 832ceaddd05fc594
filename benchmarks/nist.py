"""NIST StRD nonlinear least-squares problems of average and higher difficulty.

The NIST Statistical Reference Datasets for nonlinear regression
(https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml) give, for each problem, data
(x_i, y_i), i = 1..m, a model y = f(x; b) with p parameters, two published starting points
(start 1 far from, start 2 closer to the solution), and the certified least-squares solution
b* (11 significant digits, with certified standard deviations) and the certified residual sum
of squares

    SSR(b) = sum_i r_i(b)^2,    r_i(b) = y_i - f(x_i; b),

at b*. Every model here is closed form, so the Jacobian of the residuals,
J_ij = dr_i / db_j = -df(x_i; b) / db_j, is written out by hand; the gradient of the
objective is grad SSR = 2 J'r. One problem transforms the response: Nelson fits
log(y) = b1 - b2 x1 exp(-b3 x2), so its residuals are log(y_i) - f(x_i; b).

Accuracy is scored, as NIST suggests (McCullough 1999, "Assessing the reliability of
statistical software: Part I", The American Statistician 53(2), 149-159), by the log relative
error LRE(q, c) = -log10(|q - c| / |c|), the number of correct significant digits of q,
capped at the 11 digits NIST certifies and set to 0 when the relative error is 1 or more.

The data are files in ``benchmarks/data/nist/`` (nothing is downloaded): the original ``.dat``
layout where a verbatim copy was available, otherwise a compact transcription; README.md
there names the repository copy each file was read from. Usage::

    from nist import load, load_all, lre
    p = load("Thurber")
    p.ssr(p.b_star), p.ssr_star, p.starts[0], p.jac(p.starts[1])

Problems: average difficulty Kirby2, Hahn1, Nelson, MGH17, Lanczos1, Lanczos2, Gauss3,
Misra1c, Misra1d, Roszman1, ENSO; higher difficulty MGH09, Thurber, BoxBOD, Rat42, MGH10,
Eckerle4, Rat43, Bennett5.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["AVERAGE", "HIGHER", "NAMES", "NistProblem", "load", "load_all", "lre",
           "DATA_DIR", "CERTIFIED_DIGITS"]

DATA_DIR = Path(__file__).resolve().parent / "data" / "nist"
CERTIFIED_DIGITS = 11

AVERAGE = ("Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3",
           "Misra1c", "Misra1d", "Roszman1", "ENSO")
HIGHER = ("MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5")
NAMES = AVERAGE + HIGHER


def lre(value, certified, digits=CERTIFIED_DIGITS):
    """Log relative error: the number of significant digits `value` shares with `certified`.

    LRE = -log10(|value - certified| / |certified|), capped at `digits` (an exact match gives
    `digits`) and set to 0 when the relative error is >= 1 or `value` is not finite
    (McCullough 1999). For ``certified == 0`` the absolute error is used instead.

    Parameters
    ----------
    value, certified : float
        Computed and certified values.
    digits : int, optional
        Cap, the number of certified significant digits (11 for NIST StRD).

    Returns
    -------
    float
        LRE in [0, digits].
    """
    value, certified = float(value), float(certified)
    if not math.isfinite(certified):
        raise ValueError(f"certified value must be finite; got {certified!r}")
    if not math.isfinite(value):
        return 0.0
    err = abs(value - certified)
    if certified != 0.0:
        err /= abs(certified)
    if err == 0.0:
        return float(digits)
    if err >= 1.0:
        return 0.0
    return float(min(digits, -math.log10(err)))


@dataclass(frozen=True, eq=False)
class NistProblem:
    """One NIST StRD nonlinear least-squares problem.

    Attributes
    ----------
    name : str
        NIST dataset name, e.g. ``"Thurber"``.
    difficulty : str
        ``"average"`` or ``"higher"`` (NIST's level of difficulty).
    model_text : str
        The model as printed by NIST.
    x : ndarray
        Predictor values, shape (m,), or (m, 2) for Nelson (columns x1, x2).
    y : ndarray
        Observed responses, shape (m,) (untransformed; Nelson fits log y).
    response : ndarray
        What the model fits: ``y``, or ``log(y)`` for Nelson.
    f : callable
        ``f(x, b) -> (m,)``, the model, vectorized over the data.
    df : callable
        ``df(x, b) -> (m, p)``, its derivatives df/db_j, analytic.
    starts : tuple of ndarray
        NIST's start 1 and start 2, each shape (p,).
    b_star, sd : ndarray
        Certified parameter values and certified standard deviations, shape (p,).
    ssr_star : float
        Certified residual sum of squares.
    source : str
        File name under `DATA_DIR` the numbers were read from.
    """

    name: str
    difficulty: str
    model_text: str
    x: np.ndarray
    y: np.ndarray
    response: np.ndarray
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray]
    starts: tuple
    b_star: np.ndarray
    sd: np.ndarray
    ssr_star: float
    source: str

    @property
    def n(self) -> int:
        """Number of parameters p."""
        return self.b_star.size

    @property
    def m(self) -> int:
        """Number of observations."""
        return self.y.size

    def _b(self, b) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if b.shape != (self.n,):
            raise ValueError(f"{self.name} has {self.n} parameters; got b of shape {b.shape}")
        return b

    def residuals(self, b) -> np.ndarray:
        """r(b) = response - f(x; b), shape (m,)."""
        return self.response - self.f(self.x, self._b(b))

    def ssr(self, b) -> float:
        """Objective SSR(b) = r(b)'r(b) (the certified quantity ``ssr_star`` at ``b_star``)."""
        r = self.residuals(b)
        return float(r @ r)

    def jac(self, b) -> np.ndarray:
        """Jacobian of the residuals, dr_i/db_j = -df(x_i; b)/db_j, shape (m, p)."""
        return -self.df(self.x, self._b(b))

    def grad(self, b) -> np.ndarray:
        """Gradient of `ssr`, 2 J'r, shape (p,)."""
        return 2.0 * (self.jac(b).T @ self.residuals(b))

    def lre_ssr(self, b) -> float:
        """LRE of SSR(b) against the certified residual sum of squares."""
        return lre(self.ssr(b), self.ssr_star)

    def lre_params(self, b) -> float:
        """Minimum over the parameters of the LRE of b_j against the certified b*_j."""
        b = self._b(b)
        return min(lre(bj, cj) for bj, cj in zip(b, self.b_star))


# ----------------------------------------------------------------------------------------
# Models f(x; b) and their derivatives df/db (columns), vectorized over the data x.
# ----------------------------------------------------------------------------------------

def _misra1c(x, b):
    return b[0] * (1.0 - (1.0 + 2.0 * b[1] * x) ** -0.5)


def _misra1c_d(x, b):
    s = 1.0 + 2.0 * b[1] * x
    return np.column_stack((1.0 - s ** -0.5, b[0] * x * s ** -1.5))


def _misra1d(x, b):
    return b[0] * b[1] * x / (1.0 + b[1] * x)


def _misra1d_d(x, b):
    s = 1.0 + b[1] * x
    return np.column_stack((b[1] * x / s, b[0] * x / s ** 2))


def _rational(num, den):
    """y = (b_1 + ... + b_num x^(num-1)) / (1 + b_(num+1) x + ... + b_(num+den) x^den)."""
    def f(x, b):
        P = np.polyval(b[num - 1::-1], x)
        Q = 1.0 + x * np.polyval(b[:num - 1:-1], x)
        return P / Q

    def d(x, b):
        P = np.polyval(b[num - 1::-1], x)
        Q = 1.0 + x * np.polyval(b[:num - 1:-1], x)
        xp = x[:, None] ** np.arange(num)             # 1, x, ..., x^(num-1)
        xq = x[:, None] ** np.arange(1, den + 1)      # x, ..., x^den
        return np.column_stack((xp / Q[:, None], -(P / Q ** 2)[:, None] * xq))
    return f, d


_kirby2, _kirby2_d = _rational(3, 2)
_hahn1, _hahn1_d = _rational(4, 3)                    # also Thurber


def _nelson(x, b):
    return b[0] - b[1] * x[:, 0] * np.exp(-b[2] * x[:, 1])


def _nelson_d(x, b):
    x1, x2 = x[:, 0], x[:, 1]
    e = np.exp(-b[2] * x2)
    return np.column_stack((np.ones_like(x1), -x1 * e, b[1] * x1 * x2 * e))


def _mgh17(x, b):
    return b[0] + b[1] * np.exp(-x * b[3]) + b[2] * np.exp(-x * b[4])


def _mgh17_d(x, b):
    e4, e5 = np.exp(-x * b[3]), np.exp(-x * b[4])
    return np.column_stack((np.ones_like(x), e4, e5, -x * b[1] * e4, -x * b[2] * e5))


def _lanczos(x, b):
    return (b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-b[3] * x)
            + b[4] * np.exp(-b[5] * x))


def _lanczos_d(x, b):
    e1, e2, e3 = np.exp(-b[1] * x), np.exp(-b[3] * x), np.exp(-b[5] * x)
    return np.column_stack((e1, -x * b[0] * e1, e2, -x * b[2] * e2, e3, -x * b[4] * e3))


def _gauss(x, b):
    return (b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-(x - b[3]) ** 2 / b[4] ** 2)
            + b[5] * np.exp(-(x - b[6]) ** 2 / b[7] ** 2))


def _gauss_d(x, b):
    e = np.exp(-b[1] * x)
    u, v = x - b[3], x - b[6]
    g1, g2 = np.exp(-u ** 2 / b[4] ** 2), np.exp(-v ** 2 / b[7] ** 2)
    return np.column_stack((e, -x * b[0] * e,
                            g1, b[2] * g1 * 2 * u / b[4] ** 2, b[2] * g1 * 2 * u ** 2 / b[4] ** 3,
                            g2, b[5] * g2 * 2 * v / b[7] ** 2, b[5] * g2 * 2 * v ** 2 / b[7] ** 3))


def _roszman1(x, b):
    return b[0] - b[1] * x - np.arctan(b[2] / (x - b[3])) / np.pi


def _roszman1_d(x, b):
    d = x - b[3]
    w = 1.0 / (np.pi * (1.0 + (b[2] / d) ** 2))       # d arctan(u)/du / pi, u = b3/(x-b4)
    return np.column_stack((np.ones_like(x), -x, -w / d, -w * b[2] / d ** 2))


def _enso(x, b):
    a, t4, t7 = 2 * np.pi * x / 12, 2 * np.pi * x / b[3], 2 * np.pi * x / b[6]
    return (b[0] + b[1] * np.cos(a) + b[2] * np.sin(a) + b[4] * np.cos(t4)
            + b[5] * np.sin(t4) + b[7] * np.cos(t7) + b[8] * np.sin(t7))


def _enso_d(x, b):
    a, t4, t7 = 2 * np.pi * x / 12, 2 * np.pi * x / b[3], 2 * np.pi * x / b[6]
    # d t/d b4 = -t/b4, so d/db4 [b5 cos t + b6 sin t] = (b5 sin t - b6 cos t) t / b4
    d4 = (b[4] * np.sin(t4) - b[5] * np.cos(t4)) * t4 / b[3]
    d7 = (b[7] * np.sin(t7) - b[8] * np.cos(t7)) * t7 / b[6]
    return np.column_stack((np.ones_like(x), np.cos(a), np.sin(a), d4, np.cos(t4),
                            np.sin(t4), d7, np.cos(t7), np.sin(t7)))


def _mgh09(x, b):
    return b[0] * (x ** 2 + x * b[1]) / (x ** 2 + x * b[2] + b[3])


def _mgh09_d(x, b):
    N, D = x ** 2 + x * b[1], x ** 2 + x * b[2] + b[3]
    return np.column_stack((N / D, b[0] * x / D, -b[0] * N * x / D ** 2, -b[0] * N / D ** 2))


def _boxbod(x, b):
    return b[0] * (1.0 - np.exp(-b[1] * x))


def _boxbod_d(x, b):
    e = np.exp(-b[1] * x)
    return np.column_stack((1.0 - e, b[0] * x * e))


def _rat42(x, b):
    return b[0] / (1.0 + np.exp(b[1] - b[2] * x))


def _rat42_d(x, b):
    E = np.exp(b[1] - b[2] * x)
    S = 1.0 + E
    return np.column_stack((1.0 / S, -b[0] * E / S ** 2, b[0] * x * E / S ** 2))


def _mgh10(x, b):
    return b[0] * np.exp(b[1] / (x + b[2]))


def _mgh10_d(x, b):
    s = x + b[2]
    e = np.exp(b[1] / s)
    return np.column_stack((e, b[0] * e / s, -b[0] * b[1] * e / s ** 2))


def _eckerle4(x, b):
    return (b[0] / b[1]) * np.exp(-0.5 * ((x - b[2]) / b[1]) ** 2)


def _eckerle4_d(x, b):
    z = (x - b[2]) / b[1]
    G = np.exp(-0.5 * z ** 2)
    return np.column_stack((G / b[1], b[0] * G * (z ** 2 - 1.0) / b[1] ** 2,
                            b[0] * G * z / b[1] ** 2))


def _rat43(x, b):
    return b[0] / (1.0 + np.exp(b[1] - b[2] * x)) ** (1.0 / b[3])


def _rat43_d(x, b):
    E = np.exp(b[1] - b[2] * x)
    S = 1.0 + E
    P = S ** (-1.0 / b[3])                            # S^(-1/b4)
    Q = b[0] * P * E / (b[3] * S)                     # b1 S^(-1/b4 - 1) E / b4
    return np.column_stack((P, -Q, x * Q, b[0] * P * np.log(S) / b[3] ** 2))


def _bennett5(x, b):
    return b[0] * (b[1] + x) ** (-1.0 / b[2])


def _bennett5_d(x, b):
    s = b[1] + x
    P = s ** (-1.0 / b[2])
    return np.column_stack((P, -b[0] * P / (b[2] * s), b[0] * P * np.log(s) / b[2] ** 2))


# name: (f, df, number of parameters, NIST model text)
_MODELS = {
    "Misra1c": (_misra1c, _misra1c_d, 2, "y = b1 * (1-(1+2*b2*x)**(-.5))"),
    "Misra1d": (_misra1d, _misra1d_d, 2, "y = b1*b2*x*((1+b2*x)**(-1))"),
    "Kirby2": (_kirby2, _kirby2_d, 5, "y = (b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2)"),
    "Hahn1": (_hahn1, _hahn1_d, 7,
              "y = (b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)"),
    "Thurber": (_hahn1, _hahn1_d, 7,
                "y = (b1 + b2*x + b3*x**2 + b4*x**3) / (1 + b5*x + b6*x**2 + b7*x**3)"),
    "Nelson": (_nelson, _nelson_d, 3, "log[y] = b1 - b2*x1 * exp[-b3*x2]"),
    "MGH17": (_mgh17, _mgh17_d, 5, "y = b1 + b2*exp[-x*b4] + b3*exp[-x*b5]"),
    "Lanczos1": (_lanczos, _lanczos_d, 6, "y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"),
    "Lanczos2": (_lanczos, _lanczos_d, 6, "y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"),
    "Gauss3": (_gauss, _gauss_d, 8,
               "y = b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)"),
    "Roszman1": (_roszman1, _roszman1_d, 4, "y = b1 - b2*x - arctan[b3/(x-b4)]/pi"),
    "ENSO": (_enso, _enso_d, 9,
             "y = b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) "
             "+ b6*sin(2*pi*x/b4) + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)"),
    "MGH09": (_mgh09, _mgh09_d, 4, "y = b1*(x**2+x*b2) / (x**2+x*b3+b4)"),
    "BoxBOD": (_boxbod, _boxbod_d, 2, "y = b1*(1-exp[-b2*x])"),
    "Rat42": (_rat42, _rat42_d, 3, "y = b1 / (1+exp[b2-b3*x])"),
    "MGH10": (_mgh10, _mgh10_d, 3, "y = b1 * exp[b2/(x+b3)]"),
    "Eckerle4": (_eckerle4, _eckerle4_d, 3, "y = (b1/b2) * exp[-0.5*((x-b3)/b2)**2]"),
    "Rat43": (_rat43, _rat43_d, 4, "y = b1 / ((1+exp[b2-b3*x])**(1/b4))"),
    "Bennett5": (_bennett5, _bennett5_d, 3, "y = b1 * (b2+x)**(-1/b3)"),
}


# ----------------------------------------------------------------------------------------
# Parsers: the original NIST .dat layout, and the compact transcription (see README.md).
# ----------------------------------------------------------------------------------------

def _floats(tokens, what, path):
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise ValueError(f"{path.name}: non-numeric entry in {what}: {' '.join(tokens)!r}") from None


def _parse_dat(path):
    """Parse an original NIST StRD .dat file into a dict of raw fields."""
    lines = path.read_text().splitlines()
    rec = {"start1": [], "start2": [], "certified": [], "certified_sd": []}
    columns, rows = None, []
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if columns is not None:
            rows.append(_floats(tok, "the data", path))
        elif tok[0] == "Dataset" and len(tok) > 2 and tok[1] == "Name:":
            rec["name"] = tok[2]
        elif "Level" in tok and "Difficulty" in tok:
            rec["difficulty"] = tok[0].lower()
        elif tok[0].startswith("b") and tok[0][1:].isdigit() and len(tok) == 6 and tok[1] == "=":
            s1, s2, c, sd = _floats(tok[2:], f"parameter line {tok[0]}", path)
            if int(tok[0][1:]) != len(rec["start1"]) + 1:
                raise ValueError(f"{path.name}: parameter {tok[0]} out of order")
            rec["start1"].append(s1)
            rec["start2"].append(s2)
            rec["certified"].append(c)
            rec["certified_sd"].append(sd)
        elif line.startswith("Residual Sum of Squares:"):
            rec["certified_ssr"] = _floats(tok[-1:], "the residual sum of squares", path)[0]
        elif line.startswith("Number of Observations:"):
            rec["observations"] = int(tok[-1])
        elif tok[0] == "Data:" and len(tok) > 1 and tok[1] == "y":
            columns = tok[1:]
    if columns is None:
        raise ValueError(f"{path.name}: no 'Data:  y ...' column header found")
    data = np.array(rows, dtype=float)
    if data.ndim != 2 or data.shape[1] != len(columns):
        raise ValueError(f"{path.name}: data rows do not all have the {len(columns)} "
                         f"columns {columns}")
    rec["columns"] = {c: data[:, k] for k, c in enumerate(columns)}
    return rec


def _parse_compact(path):
    """Parse a compact transcription: 'key: values' lines, then 'x:' and 'y:' blocks."""
    rec, block = {}, None
    columns = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, rest = line.partition(":")
        if sep and key.strip() and key.strip()[0] not in "-+.0123456789":
            key = key.strip()
            if key in ("x", "y", "x1", "x2"):
                block = columns.setdefault(key, [])
                if rest.strip():
                    block.extend(_floats(rest.split(), f"column {key}", path))
                continue
            block = None
            if key in ("name", "difficulty", "model"):
                rec[key] = rest.strip()
            elif key == "observations":
                rec[key] = int(rest)
            elif key == "certified_ssr":
                rec[key] = _floats(rest.split(), key, path)[0]
            elif key in ("start1", "start2", "certified", "certified_sd"):
                rec[key] = _floats(rest.split(), key, path)
            else:
                raise ValueError(f"{path.name}: unknown key {key!r}")
        elif block is not None:
            block.extend(_floats(line.split(), "a data column", path))
        else:
            raise ValueError(f"{path.name}: unexpected line {line!r}")
    rec["columns"] = {k: np.array(v, dtype=float) for k, v in columns.items()}
    return rec


def _file_of(name):
    for ext in (".dat", ".txt"):
        path = DATA_DIR / f"{name}{ext}"
        if path.exists():
            return path
    raise ValueError(f"no data file for {name!r} in {DATA_DIR} (looked for {name}.dat, {name}.txt)")


def load(name) -> NistProblem:
    """Load the NIST problem `name` (case-insensitive) from `DATA_DIR`.

    Raises
    ------
    ValueError
        If `name` is not one of `NAMES`, or its file is missing or inconsistent (parameter
        count, observation count, missing fields).
    """
    canon = {n.lower(): n for n in NAMES}.get(str(name).lower())
    if canon is None:
        raise ValueError(f"unknown NIST problem {name!r}; known: {', '.join(NAMES)}")
    path = _file_of(canon)
    rec = _parse_dat(path) if path.suffix == ".dat" else _parse_compact(path)
    for key in ("name", "difficulty", "start1", "start2", "certified", "certified_sd",
                "certified_ssr", "observations"):
        if key not in rec:
            raise ValueError(f"{path.name}: field {key!r} not found")
    if rec["name"] != canon:
        raise ValueError(f"{path.name}: dataset name {rec['name']!r}, expected {canon!r}")
    expected = "average" if canon in AVERAGE else "higher"
    if rec["difficulty"] != expected:
        raise ValueError(f"{path.name}: difficulty {rec['difficulty']!r}, expected {expected!r}")
    f, df, p, text = _MODELS[canon]
    for key in ("start1", "start2", "certified", "certified_sd"):
        if len(rec[key]) != p:
            raise ValueError(f"{path.name}: {key} has {len(rec[key])} values; "
                             f"the {canon} model has {p} parameters")
    cols = rec["columns"]
    if canon == "Nelson":
        need = ("y", "x1", "x2")
    else:
        need = ("y", "x")
    for c in need:
        if c not in cols:
            raise ValueError(f"{path.name}: data column {c!r} missing")
        if cols[c].size != rec["observations"]:
            raise ValueError(f"{path.name}: column {c!r} has {cols[c].size} values; "
                             f"{rec['observations']} observations documented")
    y = cols["y"]
    if canon == "Nelson":
        x, response = np.column_stack((cols["x1"], cols["x2"])), np.log(y)
    else:
        x, response = cols["x"], y
    for a in (x, y, response):
        a.setflags(write=False)

    def vec(v):
        a = np.array(v, dtype=float)
        a.setflags(write=False)
        return a

    return NistProblem(name=canon, difficulty=expected, model_text=text, x=x, y=y,
                       response=response, f=f, df=df,
                       starts=(vec(rec["start1"]), vec(rec["start2"])),
                       b_star=vec(rec["certified"]), sd=vec(rec["certified_sd"]),
                       ssr_star=float(rec["certified_ssr"]), source=path.name)


def load_all(difficulty=None) -> list[NistProblem]:
    """Load every problem, or those of one `difficulty` (``"average"`` or ``"higher"``)."""
    if difficulty is None:
        names = NAMES
    elif difficulty == "average":
        names = AVERAGE
    elif difficulty == "higher":
        names = HIGHER
    else:
        raise ValueError(f"difficulty must be None, 'average' or 'higher'; got {difficulty!r}")
    return [load(n) for n in names]
