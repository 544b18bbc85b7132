"""Derivations: pure functions of the declarations (IAM, OpenAPI, the SAM template)."""
