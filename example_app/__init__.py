"""Example lambdakit apps. Each sub-package is one service (one stack)."""
