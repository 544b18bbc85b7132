"""The lambdakit benchmark suite: `python -m bench` (see docs/performance.md). Not part of the test run."""
