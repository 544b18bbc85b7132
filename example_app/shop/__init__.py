"""The shop service: its site, orders, customers, partners, and storage-first imports and click tracking.

Writes need a signed-in shop user (Cognito); partners call their own route with a partner key (a
Lambda TOKEN authorizer) and an API key in the `partners` usage plan. The whole stage is throttled
at 100 requests/s (burst 200).

The site (www.example.com) serves the SPA, this service's API at /api, and two APIs of other
accounts on the same origin, so the browser needs no CORS: the catalog service of this repo
(example_app/catalog, its own stack and account) at /api/catalog, the reviews service of this
account (example_app/reviews, on the shared domain api.example.com) at /api/reviews, and a
carrier's shipping API at /api/shipping.

At the edge: security headers on every answer, a members' area behind the shop's sign-in
(web/dist/members), each release rolled out to 10% of visitors before it is promoted, and a
page of the shop's own for a missing file (edge.py, a Lambda@Edge function).
"""

import lambdakit as lk
from example_app.shop.resources import users

service = lk.Service(
    "shop",
    throttle=(100, 200),
    usage_plans=(lk.UsagePlan("partners", quota=100_000, period="MONTH", rate=10, burst=20, keys=("acme",)),),
)

# The shop's SPA (plain files, no build step) on the same distribution as the APIs it calls under /api.
site = lk.Frontend(
    "web/dist",
    domain="www.example.com",
    headers=lk.SecurityHeaders(
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
    auth={"/members": users},  # the members' area needs a shop sign-in, checked at the edge
    rollout=lk.Rollout(percent=10),  # a new release reaches 10% of visitors until `lambdakit promote`
)
site.mount("/api/catalog", "example_app.catalog")  # reached at catalog.example.com: any account
site.mount("/api/reviews", "example_app.reviews")  # reached at api.example.com/reviews, a shared domain
site.mount("/api/shipping", origin="https://api.carrier.example.net/v1")  # another company's API
