"""``python -m curvopt check MODULE:FUNCTION --x ...``: see :mod:`curvopt.cli`."""
from curvopt.cli import main

raise SystemExit(main())
