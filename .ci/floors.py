"""Print pip constraints pinning each runtime dependency to its floor in pyproject.toml.

    python .ci/floors.py > floors.txt && pip install -c floors.txt -e ".[test]"

installs the lowest versions pyproject allows ("numpy>=1.24" -> "numpy==1.24"); the test
extras resolve beside them. .ci/run runs the suite once in such an environment.
"""
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:                       # Python 3.10
    tomllib = None

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def runtime_dependencies(text):
    """The [project] dependencies list of pyproject.toml's text."""
    if tomllib is not None:
        return tomllib.loads(text)["project"]["dependencies"]
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
    return re.findall(r'"([^"]+)"', block)


def floors(deps):
    """'name==floor' for every 'name>=floor' requirement (ValueError for one without)."""
    out = []
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?", dep)
        if m is None:
            raise ValueError(f"runtime dependency without a '>=' floor: {dep!r}")
        out.append(f"{m.group(1)}=={m.group(2)}")
    return out


if __name__ == "__main__":
    sys.stdout.write("".join(line + "\n" for line in floors(runtime_dependencies(PYPROJECT.read_text()))))
