"""The small shared core: names, path templates, records and the binding plan, shipped with the runtime."""
