"""Test problems with analytic derivatives (used by tests, benchmarks and examples)."""
