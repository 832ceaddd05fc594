""".ci/floors.py: the constraints CI's floor job installs are pyproject's lower bounds."""
import importlib.util
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _floors_module():
    spec = importlib.util.spec_from_file_location("ci_floors", ROOT / ".ci" / "floors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_runtime_dependency_is_pinned_to_its_floor():
    mod = _floors_module()
    deps = mod.runtime_dependencies((ROOT / "pyproject.toml").read_text())
    pins = mod.floors(deps)
    names = [p.split("==")[0] for p in pins]
    assert sorted(names) == ["numba", "numpy", "scipy"]
    assert all(p.split("==")[1] == d.split(">=")[1] for p, d in zip(pins, deps))
    # the installed numpy satisfies its floor (what the floor job relaxes to)
    floor = next(p for p in pins if p.startswith("numpy==")).split("==")[1]
    have = tuple(int(v) for v in numpy.__version__.split(".")[:2])
    assert have >= tuple(int(v) for v in floor.split(".")[:2])


def test_floors_parses_and_refuses_a_dependency_without_a_floor():
    mod = _floors_module()
    assert mod.floors(["numpy>=1.24", "scipy >= 1.12, <2"]) == ["numpy==1.24", "scipy==1.12"]
    with pytest.raises(ValueError, match="'numba'"):
        mod.floors(["numba"])
    with pytest.raises(ValueError, match="numba<0.60"):
        mod.floors(["numba<0.60"])
    text = 'name = "x"\n[project]\ndependencies = ["a>=1", "b>=2.0"]\n'
    assert mod.runtime_dependencies(text) == ["a>=1", "b>=2.0"]
