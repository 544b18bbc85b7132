"""lambdakit pytest plugin (fixtures arrive with the local-run work)."""
