"""(a) Warm invoke: the same endpoints through each framework, in one process, interleaved."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any

from bench import events
from bench.common import calibrate, median, paired, per_call, ratio, spread, table, us

Handler = Callable[[Any, Any], Any]
CASES = ("POST", "GET", "POST invalid")


def variants() -> dict[str, dict[str, Handler]]:
    """Each framework's handler for each case, obtained the way its Lambda runtime would."""
    from bench.apps import chalice_app, pt_app, raw_app
    from lambdakit.runtime.loader import load

    lk_post, lk_get = load("bench.apps.lk_app:create"), load("bench.apps.lk_app:get_item")
    return {
        "raw": {"POST": raw_app.create, "GET": raw_app.get_item, "POST invalid": raw_app.create},
        "lambdakit": {"POST": lk_post, "GET": lk_get, "POST invalid": lk_post},
        "raw (json.loads/dumps)": {"POST": raw_app.create_loads, "POST invalid": raw_app.create_loads},
        "Chalice": {"POST": chalice_app.app, "GET": chalice_app.app, "POST invalid": chalice_app.app},
        "Powertools (validation)": {"POST": pt_app.handler, "GET": pt_app.handler, "POST invalid": pt_app.handler},
    }


def _events() -> dict[str, dict[str, Any]]:
    return {"POST": events.post_event(), "GET": events.get_event(), "POST invalid": events.invalid_event()}


EXPECTED = {"POST": 201, "GET": 200, "POST invalid": 422}


def check(table_: dict[str, dict[str, Handler]]) -> None:
    """Every variant answers every case the same way before any of them is timed."""
    ctx = events.Context()
    for name, handlers in table_.items():
        for case, event in _events().items():
            if case not in handlers:
                continue
            response = handlers[case](event, ctx)
            if response["statusCode"] != EXPECTED[case]:
                raise AssertionError(f"{name} {case}: {response['statusCode']} {response['body']}")
            if case != "POST invalid":
                body = json.loads(response["body"])
                assert body["item_id"] == "i-1" and body["name"] == "lamp", (name, case, body)


def _floor_parts() -> dict[str, Handler]:
    """The user's own work in the POST, timed alone: what no framework can remove."""
    from bench.apps.models import Item, NewItem

    body = NewItem.model_validate_json(events.VALID)
    item = Item(item_id="i-1", **body.model_dump())
    return {
        "validate body (model_validate_json)": lambda e, c: NewItem.model_validate_json(e["body"]),
        "build Item (user code)": lambda e, c: Item(item_id="i-1", **body.model_dump()),
        "serialise (model_dump_json)": lambda e, c: item.model_dump_json(),
    }


def run(rounds: int, target: float) -> dict[str, Any]:
    table_ = variants()
    check(table_)
    evs = _events()
    ctx = events.Context()
    parts = _floor_parts()
    jobs: list[tuple[str, str, Handler, dict[str, Any], int]] = []
    for case in CASES:
        for name, handlers in table_.items():
            if case not in handlers:  # the raw GET already is json.dumps by hand
                continue
            fn = handlers[case]
            jobs.append((case, name, fn, evs[case], calibrate(fn, evs[case], ctx, target)))
    for name, fn in parts.items():
        jobs.append(("parts", name, fn, evs["POST"], calibrate(fn, evs["POST"], ctx, target)))
    samples: dict[tuple[str, str], list[float]] = {(c, n): [] for c, n, *_ in jobs}
    for r in range(rounds):
        # rotate the order every round so no variant always runs first (or after the costly one)
        order = jobs[r % len(jobs) :] + jobs[: r % len(jobs)]
        for case, name, fn, event, n in order:
            gc.collect()
            samples[(case, name)].append(per_call(fn, event, ctx, n))
    return {"samples": samples, "variants": list(table_)}


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    samples = result["samples"]
    names = result["variants"]
    rows = []
    ratios: dict[str, float] = {}
    for name in names:
        row: list[Any] = [name]
        for case in CASES:
            if (case, name) not in samples:
                row += ["-", "-"]
                continue
            value = median(samples[(case, name)])
            ratios[f"{name} {case}"] = paired(samples[(case, name)], samples[(case, "raw")])
            row += [f"{ratios[f'{name} {case}']:.2f}x", f"{us(value)} {spread(samples[(case, name)])}"]
        rows.append(row)
    header = ["variant"]
    for case in CASES:
        header += [f"{case} ratio", f"{case} time"]
    text = table(header, rows)
    post = median(samples[("POST", "raw")])
    part_rows = [
        [name, us(median(samples[("parts", name)])), ratio(median(samples[("parts", name)]), post)]
        for c, name in samples
        if c == "parts"
    ]
    total = sum(median(samples[("parts", n)]) for c, n in samples if c == "parts")
    part_rows.append(["sum: the floor of any POST handler", us(total), ratio(total, post)])
    lk_post = median(samples[("POST", "lambdakit")])
    part_rows.append(["raw handler's own code (raw - sum)", us(post - total), ratio(post - total, post)])
    part_rows.append(["lambdakit's own code (lambdakit - sum)", us(lk_post - total), ratio(lk_post - total, post)])
    ratios["raw POST s"] = post
    ratios["floor POST s"] = total
    ratios["lambdakit own POST s"] = lk_post - total
    ratios["raw own POST s"] = post - total
    text += "\n\nWhere the POST time goes (same run; ratios to the raw POST):\n\n"
    text += table(["part", "time", "of raw POST"], part_rows)
    return text, ratios
