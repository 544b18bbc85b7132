"""The site router's decisions, measured: A/B and rollout splits over 20,000 simulated fresh visitors, through
the shipped JavaScript under Node and through its Python twin; returning visitors always get what they got;
cookies as the viewer-response function sets them; the URI rewritten so the cache key holds the choice."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections import Counter
from typing import Any

import pytest

import lambdakit as lk
from lambdakit.derive import routing
from lambdakit.derive.routing import ReleaseState, RoutingPlan, cookies_twin, router_twin
from lambdakit.testing.events import cloudfront_function_event

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node runs CloudFront Functions' JavaScript")

VISITORS = 20_000


#: 4 standard deviations of a binomial share over VISITORS (at 50%: 1.4 points): a correct router fails
#: this about once in 16,000 runs, a router off by 3 points always does.
def tolerance(percent: int) -> float:
    p = percent / 100
    return 4 * (p * (1 - p) / VISITORS) ** 0.5 * 100


AB = lk.ABTest({"web/dist": 70, "web/dist-b": 20, "web/dist-c": 10})
ROLLOUT = lk.Rollout(percent=10)
STATE = ReleaseState("aaaa1111", "bbbb2222", 10).text()


def plan(ab_test: lk.ABTest | None = AB, rollout: lk.Rollout | None = None) -> RoutingPlan:
    return RoutingPlan(ab_test, rollout, "index.html", "/app", "/app/web/dist")


_HARNESS = r"""
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const store = input.store;
const cf = {kvs: () => ({get: async (key) => {
  if (!(key in store)) { throw new Error('key not found'); }
  return store[key];
}})};
const load = (code) => new Function('cf', code.replace("import cf from 'cloudfront';", '') + '\nreturn handler;')(cf);
const router = load(input.router);
const cookies = load(input.cookies);
function fresh(uri) {
  return {version: '1.0', context: {eventType: 'viewer-request'}, viewer: {ip: '203.0.113.1'},
          request: {method: 'GET', uri: uri, querystring: {}, headers: {}, cookies: {}}};
}
(async () => {
  const out = {counts: {}, sample: [], results: []};
  for (let i = 0; i < input.fresh; i++) {
    const event = fresh(i % 2 ? '/orders/o-1' : '/assets/app.3f9a1c2b.js');
    const request = await router(event);
    const response = cookies({request: request, response: {statusCode: 200, headers: {}, cookies: {}}});
    const prefix = request.uri.replace(/\/(index\.html|assets\/app\.3f9a1c2b\.js)$/, '');
    out.counts[prefix] = (out.counts[prefix] || 0) + 1;
    if (out.sample.length < input.sample) { out.sample.push({uri: request.uri, cookies: response.cookies}); }
  }
  for (const event of input.events) {
    const request = await router(event);
    const response = cookies({request: request, response: {statusCode: 200, headers: {}, cookies: {}}});
    out.results.push({uri: request.uri, cookies: response.cookies, headers: request.headers});
  }
  process.stdout.write(JSON.stringify(out));
})();
"""


def run_node(
    routed: RoutingPlan,
    *,
    fresh: int = 0,
    sample: int = 0,
    events: list[dict[str, Any]] | None = None,
    store: str | None = STATE,
) -> dict[str, Any]:
    assert NODE is not None
    payload = {
        "router": routed.router_code(),
        "cookies": routed.cookies_code(),
        "store": {routing.STATE_KEY: store} if store is not None else {},
        "fresh": fresh,
        "sample": sample,
        "events": events or [],
    }
    done = subprocess.run([NODE, "-e", _HARNESS], input=json.dumps(payload), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_twin(routed: RoutingPlan, *, fresh: int, seed: int = 7, store: str | None = STATE) -> dict[str, Any]:
    router = router_twin(routed, lambda: store, random.Random(seed).random)
    cookies = cookies_twin(routed)
    counts: Counter[str] = Counter()
    sample = []
    for i in range(fresh):
        request = router(cloudfront_function_event(uri="/orders/o-1" if i % 2 else "/assets/app.3f9a1c2b.js"))
        response = cookies({"request": request, "response": {"statusCode": 200, "headers": {}, "cookies": {}}})
        counts[request["uri"].rsplit("/index.html", 1)[0].rsplit("/assets/", 1)[0]] += 1
        if len(sample) < 500:
            sample.append({"uri": request["uri"], "cookies": response["cookies"]})
    return {"counts": dict(counts), "sample": sample}


def returning(sample: dict[str, Any], uri: str) -> dict[str, Any]:
    """The same visitor's next request: the cookies they were given, sent back."""
    cookies = {name: {"value": cookie["value"]} for name, cookie in sample["cookies"].items()}
    return cloudfront_function_event(uri=uri, cookies={k: v["value"] for k, v in cookies.items()})


def assert_split(counts: dict[str, int], expected: dict[str, int]) -> None:
    assert set(counts) == set(expected), counts
    for prefix, percent in expected.items():
        share = 100 * counts[prefix] / VISITORS
        assert abs(share - percent) <= tolerance(percent), (prefix, share, percent)


AB_SPLIT = {"/variants/web-dist": 70, "/variants/web-dist-b": 20, "/variants/web-dist-c": 10}
ROLLOUT_SPLIT = {"/releases/bbbb2222": 10, "/releases/aaaa1111": 90}


# -- the split, 20,000 fresh visitors --------------------------------------------------------------


@needs_node
def test_ab_split_under_node() -> None:
    assert_split(run_node(plan(), fresh=VISITORS)["counts"], AB_SPLIT)


def test_ab_split_python_twin() -> None:
    assert_split(run_twin(plan(), fresh=VISITORS)["counts"], AB_SPLIT)


@needs_node
def test_rollout_split_under_node() -> None:
    assert_split(run_node(plan(None, ROLLOUT), fresh=VISITORS)["counts"], ROLLOUT_SPLIT)


def test_rollout_split_python_twin() -> None:
    assert_split(run_twin(plan(None, ROLLOUT), fresh=VISITORS)["counts"], ROLLOUT_SPLIT)


@needs_node
def test_ab_and_rollout_together_under_node() -> None:
    """Releases hold the variants: 10% get the candidate, and within each release the weights hold."""
    counts = run_node(plan(AB, ROLLOUT), fresh=VISITORS)["counts"]
    expected = {
        f"/releases/{release}{variant}": share * weight // 100
        for release, share in (("bbbb2222", 10), ("aaaa1111", 90))
        for variant, weight in AB_SPLIT.items()
    }
    assert_split(counts, expected)


# -- sticky: a returning visitor always gets the same -------------------------------------------------


@needs_node
@pytest.mark.parametrize("rollout", [None, ROLLOUT])
def test_returning_visitors_get_the_same_variant_and_release_under_node(rollout: lk.Rollout | None) -> None:
    routed = plan(AB, rollout)
    sample = run_node(routed, fresh=400, sample=400)["sample"]
    events = [returning(s, uri) for s in sample for uri in ("/", "/assets/app.3f9a1c2b.js", "/cart")]
    again = run_node(routed, events=events)["results"]
    for i, first in enumerate(sample):
        prefix = first["uri"].rsplit("/", 2 if "/assets/" in first["uri"] else 1)[0]
        for result in again[3 * i : 3 * i + 3]:
            assert result["uri"].startswith(prefix + "/"), (first, result)
            assert result["cookies"] == {}  # a returning visitor gets no new cookie
    # and the twin, given the same cookies, makes the same decisions
    twin = router_twin(routed, lambda: STATE, random.Random(1).random)
    assert [twin(event)["uri"] for event in events] == [r["uri"] for r in again]


def test_returning_visitors_get_the_same_python_twin() -> None:
    routed = plan(AB, ROLLOUT)
    sample = run_twin(routed, fresh=300)["sample"]
    twin = router_twin(routed, lambda: STATE, random.Random(99).random)
    for first in sample:
        prefix = first["uri"].rsplit("/", 2 if "/assets/" in first["uri"] else 1)[0]
        for uri in ("/", "/x/y", "/assets/app.3f9a1c2b.js"):
            assert twin(returning(first, uri))["uri"].startswith(prefix + "/")


# -- cookies, unknown values, the state's transitions as the router sees them ------------------------


@needs_node
def test_new_visitors_get_secure_cookies_and_bad_cookies_are_drawn_again() -> None:
    routed = plan(AB, ROLLOUT)
    events = [
        cloudfront_function_event(uri="/"),
        cloudfront_function_event(uri="/", cookies={"lk-variant": "web-dist-z", "lk-release": "abc"}),
        cloudfront_function_event(uri="/", cookies={"lk-variant": "web-dist-b", "lk-release": "3"}),
    ]
    # a viewer cannot make the response set a cookie of its choosing by sending the router's header itself
    events.append(
        cloudfront_function_event(
            uri="/",
            headers={routing.NEW_VARIANT: "evil; Domain=x"},
            cookies={"lk-variant": "web-dist", "lk-release": "50"},
        )
    )
    results = run_node(routed, events=events)["results"]
    first = results[0]["cookies"]
    assert set(first) == {"lk-variant", "lk-release"}
    assert first["lk-variant"]["attributes"] == "Secure; SameSite=Lax; Path=/; Max-Age=31536000"
    assert first["lk-release"]["attributes"] == "Secure; SameSite=Lax; Path=/; Max-Age=31536000; HttpOnly"
    assert set(results[1]["cookies"]) == {"lk-variant", "lk-release"}  # unknown values: drawn again
    assert results[1]["cookies"]["lk-variant"]["value"] in AB.names
    assert results[2]["cookies"] == {} and results[2]["uri"] == "/releases/bbbb2222/variants/web-dist-b/index.html"
    assert results[3]["cookies"] == {} and results[3]["uri"] == "/releases/aaaa1111/variants/web-dist/index.html"
    twin = router_twin(routed, lambda: STATE)
    for event, result in zip(events[2:], results[2:], strict=True):
        assert twin(event)["uri"] == result["uri"]


@needs_node
@pytest.mark.parametrize(
    ("state", "draw", "expected"),
    [
        (None, "3", "/index.html"),  # no release recorded yet: the bucket's root
        (ReleaseState("aaaa1111", None, 10).text(), "3", "/releases/aaaa1111/index.html"),  # promoted / rolled back
        (ReleaseState("aaaa1111", "bbbb2222", 10).text(), "3", "/releases/bbbb2222/index.html"),
        (ReleaseState("aaaa1111", "bbbb2222", 10).text(), "10", "/releases/aaaa1111/index.html"),
        ("not json", "3", "/index.html"),
    ],
)
def test_the_release_follows_the_store(state: str | None, draw: str, expected: str) -> None:
    routed = plan(None, ROLLOUT)
    event = cloudfront_function_event(uri="/deep/link", cookies={"lk-release": draw})
    assert run_node(routed, events=[event], store=state)["results"][0]["uri"] == expected
    assert router_twin(routed, lambda: state)(event)["uri"] == expected


def test_release_ids_come_from_content() -> None:
    files = [("index.html", "a" * 32), ("assets/app.js", "b" * 32)]
    assert routing.release_id(files) == routing.release_id(list(reversed(files)))
    assert routing.release_id(files) != routing.release_id([("index.html", "c" * 32), ("assets/app.js", "b" * 32)])
    assert len(routing.release_id(files)) == 16
