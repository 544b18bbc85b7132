"""Imported by every app module: with BENCH_BOTO3=1 the app imports boto3 at module level, as many do."""

import os

if os.environ.get("BENCH_BOTO3"):
    import boto3  # noqa: F401
