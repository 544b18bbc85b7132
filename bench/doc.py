"""docs/performance.md, written from one run: its tables, and the reading of them in the run's own figures."""

from __future__ import annotations

import datetime
from typing import Any

from bench import cold, consumers

_RUN = """\
```
pip install -e ".[bench]"          # Chalice; Powertools is already a dependency of lambdakit
python -m bench                    # ~3-4 minutes: prints every table and rewrites this page
python -m bench --quick            # a smoke test: too few rounds to publish
python -m bench --only warm,consumers --no-write
```

The suite lives in `bench/` (one app per framework in `bench/apps/`, real event shapes in
`bench/events.py`) and is not part of the test run: `pytest` collects `tests/` only.
"""


def _f(figures: dict[str, dict[str, float]], section: str, key: str, default: float = float("nan")) -> float:
    return figures.get(section, {}).get(key, default)


def _warm(figures: dict[str, dict[str, float]]) -> str:
    w = figures["warm"]
    own, raw, floor = w["lambdakit own POST s"], w["raw POST s"], w["floor POST s"]
    return f"""\
Each framework serves the same endpoints (`bench/apps/`): `POST /items` with a pydantic body, answering
201 with the created item; `GET /items/{{item_id}}`, answering a dict looked up in a constant (no AWS
call, so only framework overhead is measured); and the POST with an invalid body (422). The events are
full API Gateway REST proxy events (headers, request context) as AWS sends them.

- **raw**: `bench/apps/raw_app.py`, what an expert writes by hand: `model_validate_json` on the body,
  `model_dump_json` on the result, the response dict. **raw (json.loads/dumps)** is the literal
  `json.loads` + `model_validate` + `json.dumps` version.
- **lambdakit**: `lambdakit.runtime.loader.load("bench.apps.lk_app:create")`, the handler
  `lambdakit.entry.handler` serves when `LAMBDAKIT_FUNCTION` names the function.
- **Chalice**: `app(event, context)`; Chalice binds no pydantic model, so the route validates by hand.
- **Powertools**: `APIGatewayRestResolver(enable_validation=True)`, the body bound as a pydantic model.

The second table splits the POST: what any handler must spend in pydantic (validate, build the
item, serialise) is {floor * 1e6:.1f} µs of the raw POST's {raw * 1e6:.1f} µs; lambdakit's own code,
everything else it does, is **{own * 1e6:.1f} µs**: reading the body and the Content-Type header (with
its fast path for the exact `Content-Type: application/json`), calling the function with its bound
arguments, choosing the response from the result's type. Chalice's and Powertools' extra time is
routing, their request objects and (Powertools) its own validation and serialisation layers: here
Chalice is {w["Chalice POST"]:.1f}x and Powertools {w["Powertools (validation) POST"]:.1f}x the raw POST (measured at
~6x and ~21x before lambdakit existed).

What this pass changed on the hot path (`lambdakit/runtime/http.py`): the JSON encoders are built once
(`json.dumps(..., default=, separators=)` builds one per call); `lk.Response`, `lk.Identity` and
`lk.Request` are looked at only when a function can produce or take them; a lower-case `content-type`
(HTTP/2 clients) is found without scanning every header; the body reader and the call are
specialised per function at cold start.
"""


def _cold(figures: dict[str, dict[str, float]]) -> str:
    c = figures["cold"]
    inc = {m: c[f"lambdakit increment s {m} no boto3"] for m in cold.MODES}
    raw = {m: c[f"raw import s {m} no boto3"] for m in cold.MODES}
    share = {m: c[f"lambdakit increment {m} no boto3"] for m in cold.MODES}
    budget = raw["all .pyc"] * 0.03
    modules = f"{c['lambdakit module count']:.0f}"
    edge = ""
    if share["all .pyc"] > 1.03:
        edge = (
            f"With everything precompiled the raw import is only {raw['all .pyc'] * 1e3:.0f} ms, so 3% is "
            f"{budget * 1e3:.1f} ms, and lambdakit's {inc['all .pyc'] * 1e3:.1f} ms is "
            f"**{share['all .pyc']:.3f}x**, {(inc['all .pyc'] - budget) * 1e3:.1f} ms over."
            " That is the floor of this layout: the"
            f" remainder is loading the {modules} modules the HTTP path imports (finding and unmarshalling their"
            " bytecode is about half of it), creating their classes and functions, declaring the routes"
            " and building the binding plan (profile above, module by module). Going lower means fewer,"
            " larger modules on the HTTP path (declare/ as one module), which would trade the one-job"
            " modules for about a millisecond."
        )
    else:
        edge = (
            f"With everything precompiled (the raw import {raw['all .pyc'] * 1e3:.0f} ms), lambdakit's "
            f"{inc['all .pyc'] * 1e3:.1f} ms is {share['all .pyc']:.3f}x: what remains is loading the "
            f"{modules} modules the HTTP path imports, creating their classes, declaring the routes and building"
            " the plan (profile above, module by module)."
        )
    return f"""\
{cold.__doc__.split(chr(10) + chr(10), 1)[1]}
The **lambdakit, its own share** rows measure lambdakit precisely: the raw handler's imports (pydantic,
the models) run first, untimed, then `lambdakit.entry` is imported (which imports the function's
module and builds its handler); its ratio is (raw import + that) / raw import. Whole-import ratios of
two ~100-300 ms imports carry several percent of noise on this machine; the share does not.

Reading: in a SAM-built function, lambdakit adds **{inc["SAM, .pyc"] * 1e3:.1f} ms** to a
{raw["SAM, .pyc"] * 1e3:.0f} ms import ({share["SAM, .pyc"]:.3f}x). Shipped as source, as before this
pass, it added {inc["SAM, source"] * 1e3:.1f} ms ({share["SAM, source"]:.3f}x): most of it was compiling
lambdakit's own code at every cold start, which `lambdakit build` now avoids by shipping hash-based
.pyc files (`lambdakit/packaging/tree.py`, `compile_code`: reproducible, and unchecked, since a
deployed function's files never change). Bytecode is specific to a Python version, so they ship
only when the building Python is the function's runtime (python3.11 by default); built with another
Python, the "SAM, source" row applies. For comparison, in the SAM scenario Chalice's import is
{c["Chalice SAM, .pyc no boto3"]:.2f}x the raw one and Powertools' resolver
{c["Powertools (validation) SAM, .pyc no boto3"]:.2f}x.

{edge}

Nothing heavy loads on the HTTP path ("loaded by the end"): no Powertools (its logger loads on the
first unexpected error), and boto3 only on first AWS use, or when the app imports it itself.

What keeps the HTTP path small: the declaration records on it (`Route`, `FunctionSpec`, the binding
plan's `Param` and `Plan`, a path's `Segment`) are plain classes on `lambdakit.core.Record`, not
dataclasses, which compile each generated method with `exec` when the class is created (about 1 ms per
frozen dataclass here); what a function may never use loads on its first use: the HTTP errors,
`lk.Identity`, `lk.Request`, `lk.Response`, `@lk.authorizer`, `@lk.consume`, the storage-first and `auth=`
checks, a route's failure answers (`runtime/http_errors.py`), its validated path and query values
(`runtime/http_values.py`) and its CORS headers (`runtime/cors.py`); no regular expression is compiled
at import; and the .pyc above.

Garbage collection: CPython runs its cyclic collector when the objects it tracks (tuples, functions,
dicts, classes; most of lambdakit's are the tuples in its bytecode) grow by 700 since the last run, and
each run scans every young object (about 1 ms here). The raw handler's imports leave the count at
~160, so an import that adds more than ~540 tracked objects pays a collection inside it. lambdakit's
HTTP path stays under that ((g) prints the collections inside its share); a function added to the path
costs about 5 tracked objects, a class about 15.
"""


def _consumers(figures: dict[str, dict[str, float]]) -> str:
    k = figures["consumers"]
    valid, failing = list(consumers.CASES)
    lk, pt = k[f"lambdakit {valid} s"], k[f"Powertools BatchProcessor {valid} s"]
    vs_pt = k[f"lambdakit {valid} vs Powertools"]
    n_fail = len(consumers.CASES[failing])
    log_cost = (
        ((k[f"lambdakit {failing} s"] - lk) - (k[f"Powertools BatchProcessor {failing} s"] - pt))
        * consumers.BATCH
        / n_fail
    )
    text = f"""\
A batch of {consumers.BATCH} SQS records (`bench/events.py`), each validated into a pydantic model and
written to a dict (`bench/apps/consumers.py`): a hand-written loop building `batchItemFailures`,
Powertools' `BatchProcessor` + `process_partial_response` used directly (a module-level processor, as
its documentation shows), and a lambdakit `@lk.consume` function through its Lambda handler. Figures
are per record (batch time / {consumers.BATCH}).
"""
    if vs_pt > 1.0:
        text += f"""
Reading: lambdakit's consumer is {vs_pt:.2f}x Powertools used directly. lambdakit runs the same
Powertools loop (one processor per thread, reused), so the difference is its own per-record code: the
profile below shows where.
"""
    else:
        text += f"\nReading: lambdakit's consumer is {vs_pt:.2f}x Powertools used directly: the same loop.\n"
    text += f"""
With failed records, lambdakit also writes one structured warning per failure (Powertools' `Logger`,
JSON, with pydantic's error details), about **{log_cost * 1e6:.0f} µs per failed record** here;
Powertools used directly logs nothing. That log is how an operator finds why a message went to the
dead-letter queue, and it costs only on failed records: with it, this is the floor of the failing case.
"""
    return text


def _build(figures: dict[str, dict[str, float]]) -> str:
    b = figures["build"]
    linear = (
        ": linear within the noise"
        if b["linearity"] <= 1.5
        else (
            ": the larger build costs more per function; the phase columns show which phase grows faster than the "
            "number of functions"
        )
    )
    return f"""\
`bench/buildscale.py` generates services of 10, 100, 500 and 1000 functions into a temporary folder
(modules of ten functions: GETs with a path parameter, POSTs with a body and a Cognito pool, a PUT,
a GET with query parameters, a queue consumer; a table and a queue per module) and builds each in a
fresh process: `lambdakit build PACKAGE` as a user runs it (wall time, from process start to the
summary: the target), and, in a probe process, CPU time of `discover` and of `build` (which writes the
template, copies and compiles the code), with `build`'s phases (`build_template`, `dump_yaml`,
`compile_code`) timed as it runs them, and the peak RSS. Linearity is judged on the CPU times: the
marginal cost of a function from 500 to 1000 functions against that from 100 to 500 (a size of 500 is
built for that; from 10 to 100 the difference is small against the fixed cost's noise).

Reading: 1000 functions build in **{b["cli 1000"]:.2f} s**; the marginal cost per function is
{b["slope 100-500 ms"]:.2f} ms from 100 to 500 functions and {b["slope 500-1000 ms"]:.2f} ms from 500 to 1000
({b["linearity"]:.2f}x){linear}. YAML is the largest phase ({b["yaml 1000"]:.2f} s at 1000
functions, a 4 MB template): `dump_yaml` now uses libyaml's emitter when PyYAML has it, which writes the
same text (checked byte for byte on these templates) about 3x faster than the pure-Python emitter,
with which the 1000-function build took over 5 s (measured while making the change); and it turns the
cyclic garbage collector off while it runs: the dump makes a node per value (260,000 at 1000
functions) and no cycles, and the collector rescanning the growing heap made it superlinear (at 1000
functions it cost twice ten times its cost at 100; it is now linear). The binding plan
of a function is computed once and shared by discovery, the OpenAPI document and the template (it was
computed four times per route).
Memory grows by {b["growth MB 1000"]:.0f} MB at 1000 functions (the template held as dicts).
"""


def _size(figures: dict[str, dict[str, float]]) -> str:
    s = figures["size"]
    return f"""\
What `lambdakit build` puts in `src/lambdakit` beside the app (`RUNTIME_FILES` and `RUNTIME_DIRS` in
`lambdakit/packaging/tree.py`; the builder, CLI, emulator and test client stay behind), measured by copying
and compiling it exactly as `build` does. The dependencies (pydantic, Powertools, the app's) are not
counted here: section (g) gives the whole artifact.

Reading: **{s["bytes"] / 1e6:.3f} MB** ({s["zipped"] / 1e6:.3f} MB zipped): {s["source"] / 1e6:.3f} MB of
source and {(s["bytes"] - s["source"]) / 1e6:.3f} MB of the .pyc that save each cold start compiling it.
Python 3.11's bytecode is larger than the source (it carries column positions for tracebacks); without
the .pyc the runtime would be {s["source"] / 1e6:.3f} MB but cost ~10 ms more per cold start (section b).
"""


def _site(figures: dict[str, dict[str, float]]) -> str:
    t = figures["site"]
    return f"""\
`lambdakit local` serving a small SPA and one API route (`bench/site.py`), beside Python's
`http.server` serving the same folder, over HTTP with a new connection per request. Then, in
process, the same API request through the site (the distribution's routing, the headers policy; the
own API under `/api` runs no CloudFront Function) against the gateway alone: the site adds
**{t["site added p50 ms"]:.3f} ms** at the median. The deep link runs the shipped SPA-fallback
CloudFront Function under Node, through one long-lived Node process.
"""


def _packaged(figures: dict[str, dict[str, float]]) -> str:
    p = figures["packaged"]
    return f"""\
The function as `lambdakit package` ships it (`bench/packaged.py`): the bench service packaged for this
machine's architecture, its zip unzipped as /var/task, each sample a fresh `python -S` with only what
the Lambda runtime adds beside it (boto3 and its dependencies; no site-packages). The raw handler runs
from the same artifact in the same conditions. lambdakit's own share: **{p["packaged increment"]:.3f}x**,
with {p["packaged collections in share"]:.0f} garbage collections inside it (section (b) says why that counts).
Then `lambdakit package example_app.shop` in a fresh process: **{p["package first s"]:.1f} s** with an
empty cache (fetching the compiled wheels, compiling every dependency), **{p["package cached s"]:.1f} s**
with it (offline; docs/packaging.md).
"""


def render(
    texts: dict[str, str],
    figures: dict[str, dict[str, float]],
    verdict: str,
    context: str,
    *,
    quick: bool,
    command: str,
) -> str:
    date = datetime.date.today().isoformat()
    parts: list[Any] = [
        f"""\
# Performance

A user choosing lambdakit over Chalice or Powertools' resolver must not pay for it: one function per
Lambda needs no routing, so the floor is a raw handler doing JSON parse, pydantic validation and JSON
dump by hand. This page measures lambdakit against that floor and against the peers: the warm path,
cold start, queue consumers, build time at scale and what lambdakit adds to a deployment artifact.

## Run it

{_RUN}
## How these figures were made

One run of `{command}` on {date}{" (quick mode: too few rounds; do not publish)" if quick else ""}.
Machine: {context}.

Every figure is measured in that one run, side by side and interleaved (each round rotates the order
of the variants), over several rounds (21 for the in-process figures, 15 fresh processes per variant
for cold start), and given as a **ratio to the raw hand-written handler**: the median of the per-round
ratios, each round's variant against the raw handler of the same round, so that a slow spell of the
machine, which hits both, cancels out. The machine is shared and noisy, so times are the process's CPU
time (`time.process_time`), which other processes disturb far less than the wall clock; times shown
are medians, and `±` is half the interquartile range of the rounds. Absolute times are context only:
ratios are what carries over to Lambda.

## Targets

{verdict}
"""
    ]
    sections = [
        ("warm", "(a) Warm invoke", _warm),
        ("cold", "(b) Cold start", _cold),
        ("consumers", "(c) Consumers", _consumers),
        ("build", "(d) Build scale", _build),
        ("size", "(e) Package size", _size),
        ("site", "(f) The site, locally", _site),
        ("packaged", "(g) As packaged", _packaged),
    ]
    for key, title, prose in sections:
        if key in texts:
            parts.append(f"## {title}\n\n{prose(figures)}\n{texts[key]}\n")
    return "\n".join(parts)
