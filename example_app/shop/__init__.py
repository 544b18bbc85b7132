"""The shop service: a catalogue, orders, customers, partners, and storage-first imports and click tracking.

Reads of the catalogue are public (and cached); writes need a signed-in shop user
(Cognito); partners call their own route with a partner key (a Lambda TOKEN
authorizer) and an API key in the `partners` usage plan. The whole stage is
throttled at 100 requests/s (burst 200).
"""

import lambdakit as lk

service = lk.Service(
    "shop",
    throttle=(100, 200),
    usage_plans=(lk.UsagePlan("partners", quota=100_000, period="MONTH", rate=10, burst=20, keys=("acme",)),),
)

# The shop's SPA (plain files, no build step) on the same distribution as the API, which it calls at /api.
site = lk.Frontend(
    "web/dist",
    headers=lk.SecurityHeaders(
        csp="default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
)
