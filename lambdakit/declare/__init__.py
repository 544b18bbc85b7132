"""Declarations: pure data describing an app. Nothing here calls AWS."""
