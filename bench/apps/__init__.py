"""The same endpoints written for each framework, so only the framework differs."""
