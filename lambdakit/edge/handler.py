"""The Lambda@Edge handler of every `@lk.edge` function: `lambdakit.edge.handler.handler`.

Lambda@Edge has no environment variables, so what to run is read once, at the first request, from
`lambdakit_edge.json` at the artifact's root: `{"module", "function", "event", "config"}`.
`run` is the dispatch itself, shared with `lambdakit local`: a request event's function gets the
request and returns it or a response; a response event's function gets `(request, response)` and
returns the response. On a viewer request whose behavior also has lambdakit's own step (the SPA
fallback, a path prefix), that step runs after the user's function, unless the function answered.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from lambdakit.edge.rewrites import is_response, run_steps

CONFIG_FILE = "lambdakit_edge.json"


def run(
    func: Callable[..., Any], event_type: str, event: dict[str, Any], steps: Sequence[Sequence[Any]] = ()
) -> dict[str, Any]:
    """What CloudFront gets back from the function for `event` (a Lambda@Edge event, Records[0].cf)."""
    cf = event["Records"][0]["cf"]
    request = cf["request"]
    if event_type.endswith("-response"):
        result = func(request, cf["response"])
    else:
        result = func(request)
        if isinstance(result, dict) and not is_response(result) and steps:
            result = run_steps(result, steps)
    if not isinstance(result, dict):
        raise TypeError(f"the edge function returned {type(result).__name__}, not a request or a response dict")
    return result


def _load() -> tuple[Callable[..., Any], str, list[Any]]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, CONFIG_FILE), encoding="utf-8") as handle:
        config = json.load(handle)
    func = getattr(importlib.import_module(config["module"]), config["function"])
    return func, config["event"], list((config.get("config") or {}).get("steps") or ())


_loaded: list[tuple[Callable[..., Any], str, list[Any]]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not _loaded:  # importing this module (local runs `run`) needs no artifact around it
        _loaded.append(_load())
    func, event_type, steps = _loaded[0]
    return run(func, event_type, event, steps)
