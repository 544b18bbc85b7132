"""Site sign-in (`lk.Frontend(auth=...)`): what it declares, its half of the main template, and its edge config.

`auth=users` protects the whole site, `auth={"/members": users}` a members' area (each path its own
behavior on the bucket). The API behaviors are never protected here: they keep the API's own auth.

The main template gets, beside the pool: an app client for the site (authorization code grant with
PKCE, no secret: nothing secret is baked into the edge package, and nothing is read at deploy but the
stack's outputs), its callback and logout URLs on the site's domain, the pool's domain (Cognito's
hosted sign-in), an origin request policy that forwards lambdakit's cookies, the query string and the
viewer's path header to the edge function (never `Host`), and the 503 CloudFront Function a protected
behavior answers with while `SiteAuthVersionArn` is empty: on a first deploy the main stack exists
before the edge function does (its config needs this stack's outputs), and the site must fail closed
until then. Protected behaviors use CachingDisabled: per-visitor answers never enter the shared cache.

`config_from` is what deploy bakes into the edge artifact once the main stack exists (Lambda@Edge has
no environment); `local_config` is what `lambdakit local` runs the same handler with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lambdakit.declare.app import App
from lambdakit.declare.auth import Cognito
from lambdakit.derive.cognito import REFRESH_TOKEN_DAYS, USER_CLIENT_SCOPES, domain_prefix, needs_domain, scopes_used
from lambdakit.edge.site_auth import AUTH_PATH, COOKIES, VIEWER_URI_HEADER

if TYPE_CHECKING:
    from lambdakit.declare.site import Frontend
    from lambdakit.derive.site import Behavior, SitePlan

VERSION_PARAMETER = "SiteAuthVersionArn"  # the us-east-1 stack's output of the same name (EDGE's SiteAuth plan)
READY = "SiteAuthReady"  # the Condition: the edge function exists, so protected behaviors may serve
CLOSED_FUNCTION = "SiteAuthClosed"
ORIGIN_REQUESTS = "SiteAuthOriginRequests"
POOL_OUTPUT = "SiteAuthUserPoolId"
CLIENT_OUTPUT = "SiteAuthClientId"
DOMAIN_OUTPUT = "SiteAuthDomain"
SITE_URL_OUTPUT = "SiteUrl"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
SESSION_SECONDS = REFRESH_TOKEN_DAYS * 86400
LOCAL_SIGNIN = "/_lambdakit/signin"  # where `lambdakit local` serves its stand-in for the hosted sign-in
_AREA = re.compile(r"^(/[A-Za-z0-9_-]+)+$")


# -- the declaration --------------------------------------------------------------------------------------


def declared(site: Frontend | None) -> tuple[Cognito, tuple[str, ...]] | None:
    """The pool and the protected areas ("" is the whole site, else paths such as "/members"), sorted; None
    when the site has no sign-in or `auth=` is malformed (`problems` says how)."""
    auth = None if site is None else site.edge.get("auth")
    if isinstance(auth, Cognito):
        return auth, ("",)
    if isinstance(auth, Mapping) and auth and all(isinstance(p, Cognito) for p in auth.values()):
        pools = list(auth.values())
        if all(isinstance(path, str) for path in auth) and all(p.same_pool(pools[0]) for p in pools):
            return pools[0], tuple(sorted(auth))
    return None


def areas(site: Frontend | None) -> tuple[str, ...]:
    found = declared(site)
    return () if found is None else found[1]


def entry_areas(site: Frontend | None) -> tuple[str, ...]:
    """The signed-in areas whose client-side routes get the area's own entry file (`/members/index.html`),
    longest first, as the SPA fallback matches them."""
    return tuple(sorted((a for a in areas(site) if a), key=lambda a: (-len(a), a)))


def problems(site: Frontend, where: str) -> list[str]:
    """The mistakes of `auth=` on the site, each with its fix."""
    auth = site.edge.get("auth")
    if auth is None:
        return []
    label = f"{where}: auth="
    if isinstance(auth, Mapping):
        if not auth:
            return [f"{label}{{}} protects nothing: give {{'/members': users}}, or auth=users for the whole site"]
        pools = list(auth.values())
    else:
        pools = [auth]
    if not all(isinstance(p, Cognito) for p in pools):
        return [
            f"{label}{auth!r}: give an lk.Cognito (auth=users: the whole site needs a sign-in) or "
            "{'/members': users} (a members' area)"
        ]
    found: list[str] = []
    pool = pools[0]
    if any(not p.same_pool(pool) for p in pools):
        found.append(f"{label}: every protected path must use the same lk.Cognito (one sign-in per site)")
    if pool.arn is not None:
        found.append(
            f"{label}lk.Cognito(arn=...): site sign-in needs a pool the stack creates (its app client, domain "
            "and callback URLs); declare lk.Cognito('NAME') for the site"
        )
    if any(p.required_scopes for p in pools):
        found.append(f"{label}: .scopes() is for routes; the site's sign-in takes the pool itself")
    if isinstance(auth, Mapping):
        found += _path_problems(site, label, [str(p) for p in auth])
    return found


def _path_problems(site: Frontend, label: str, paths: list[str]) -> list[str]:
    found = []
    apis = [p for p in [site.api_path, *(m.path for m in site.mounts)] if p]
    for path in paths:
        if not _AREA.match(path):
            found.append(
                f"{label}{{{path!r}: ...}}: give a path such as '/members' (no trailing slash, no wildcard); "
                "auth=users protects the whole site"
            )
        elif any(path == api or path.startswith(api + "/") or api.startswith(path + "/") for api in apis):
            found.append(
                f"{label}{{{path!r}: ...}} overlaps an API path ({', '.join(apis)}): APIs keep their own auth= "
                "(routes' auth), the site's sign-in protects the site's files"
            )
        elif any(path != other and path.startswith(other + "/") for other in paths):
            found.append(f"{label}{{{path!r}: ...}} is inside another protected path: keep the outer one")
    return found


# -- the behaviors ----------------------------------------------------------------------------------------


def area_behaviors(site: Frontend | None, default: Behavior, existing: Sequence[Behavior]) -> list[Behavior]:
    """A behavior on the bucket for each protected area no behavior serves yet (`site_plan` adds them)."""
    from dataclasses import replace

    taken = {b.path for b in existing}
    return [replace(default, path=area) for area in areas(site) if area and area not in taken]


def protected(site: SitePlan, behavior: Behavior) -> bool:
    """Whether the sign-in guards `behavior`: the bucket's behaviors, all of them (`auth=users`) or the
    protected areas' (`auth={"/members": users}`); an API behavior never (it keeps the API's own auth)."""
    guarded = areas(site.frontend)
    if not guarded or behavior.origin.kind != "s3":
        return False
    return guarded == ("",) or behavior.path in guarded


def protected_keys(site: SitePlan) -> tuple[str, ...]:
    """The protected behaviors as edge plans name them ("/*" the default): the SiteAuth plan's `paths`."""
    return tuple("/*" if b.path is None else b.path for b in (site.default, *site.behaviors) if protected(site, b))


# -- the main template ------------------------------------------------------------------------------------


def client_id(pool: Cognito) -> str:
    return pool.logical_id + "SiteClient"


def _site_url(site: SitePlan, suffix: str = "") -> dict[str, Any]:
    from lambdakit.derive.site import DISTRIBUTION

    host = f"${{{site.domain_parameter}}}" if site.domain else f"${{{DISTRIBUTION}.DomainName}}"
    return {"Fn::Sub": f"https://{host}{suffix}"}


def version_parameter() -> dict[str, Any]:
    """`SiteAuthVersionArn`: empty until the edge function exists (its first deploy), and the site then fails
    closed."""
    return {
        "Type": "String",
        "Default": "",
        "AllowedPattern": "^$|^arn:aws[a-z-]*:lambda:us-east-1:[0-9]{12}:function:[A-Za-z0-9_-]+:[0-9]+$",
        "Description": "The numbered version of the site's sign-in (the us-east-1 stack's SiteAuthVersionArn); "
        "empty: the protected paths answer 503 until it exists",
    }


CLOSED_CODE = (
    "function handler(event) {\n"
    "  return {\n"
    "    statusCode: 503,\n"
    "    statusDescription: 'Service Unavailable',\n"
    "    headers: {'cache-control': {value: 'no-store'}, 'retry-after': {value: '120'}}\n"
    "  };\n"
    "}\n"
)


def resources(app: App, site: SitePlan) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Resources, outputs, parameters and conditions of site sign-in in the main template (empty without)."""
    found = declared(site.frontend)
    if found is None:
        return {}, {}, {}, {}
    pool, protected = found
    out: dict[str, Any] = {}
    if not needs_domain(pool, scopes_used(app, pool)):  # else derive/cognito.py makes it
        out[pool.logical_id + "Domain"] = {
            "Type": "AWS::Cognito::UserPoolDomain",
            "Properties": {"Domain": domain_prefix(pool), "UserPoolId": {"Ref": pool.logical_id}},
        }
    out[client_id(pool)] = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "UserPoolId": {"Ref": pool.logical_id},
            "ClientName": {"Fn::Sub": "${AWS::StackName}-site"},
            "GenerateSecret": False,  # a public client: the code flow with PKCE
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": sorted(USER_CLIENT_SCOPES),
            "CallbackURLs": [_site_url(site, f"{area}{AUTH_PATH}/callback") for area in protected],
            "LogoutURLs": [_site_url(site, "/")],
            "SupportedIdentityProviders": ["COGNITO"],
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": REFRESH_TOKEN_DAYS,
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
            "EnableTokenRevocation": True,
            "PreventUserExistenceErrors": "ENABLED",
        },
    }
    out[ORIGIN_REQUESTS] = {
        "Type": "AWS::CloudFront::OriginRequestPolicy",
        "Properties": {
            "OriginRequestPolicyConfig": {
                "Name": {"Fn::Sub": "${AWS::StackName}-site-auth"},
                "Comment": "lambdakit: what the site's sign-in reads (its cookies, the query, the viewer's path)",
                "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": list(COOKIES)},
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": [VIEWER_URI_HEADER]},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            }
        },
    }
    from lambdakit.derive.cloudfront_functions import RUNTIME

    out[CLOSED_FUNCTION] = {
        "Type": "AWS::CloudFront::Function",
        "Properties": {
            "Name": {"Fn::Sub": f"${{AWS::StackName}}-{CLOSED_FUNCTION}"},
            "AutoPublish": True,
            "FunctionCode": CLOSED_CODE,
            "FunctionConfig": {
                "Comment": "lambdakit: the protected paths answer 503 until the site's sign-in is deployed",
                "Runtime": RUNTIME,
            },
        },
    }
    domain = {"Fn::Join": ["", [domain_prefix(pool), ".auth.", {"Ref": "AWS::Region"}, ".amazoncognito.com"]]}
    outputs = {
        POOL_OUTPUT: {"Description": "The pool the site signs in with", "Value": {"Ref": pool.logical_id}},
        CLIENT_OUTPUT: {"Description": "The site's app client (code flow, PKCE)", "Value": {"Ref": client_id(pool)}},
        DOMAIN_OUTPUT: {"Description": "The pool's hosted sign-in", "Value": domain},
    }
    conditions = {READY: {"Fn::Not": [{"Fn::Equals": [{"Ref": VERSION_PARAMETER}, ""]}]}}
    return out, outputs, {VERSION_PARAMETER: version_parameter()}, conditions


def guard(rendered: dict[str, Any]) -> dict[str, Any]:
    """A protected behavior, from its rendered `CacheBehavior`: nothing cached, the sign-in on its origin
    request once `SiteAuthVersionArn` is set, and until then the 503 function in place of everything else."""
    out = dict(rendered)
    out["CachePolicyId"] = CACHING_DISABLED
    out["OriginRequestPolicyId"] = {"Ref": ORIGIN_REQUESTS}
    no_value = {"Ref": "AWS::NoValue"}
    sign_in = {"EventType": "origin-request", "LambdaFunctionARN": {"Ref": VERSION_PARAMETER}}
    others = [a for a in rendered.get("LambdaFunctionAssociations") or () if a.get("EventType") != "origin-request"]
    # Until the sign-in exists, the 503 function takes the viewer request: no Lambda@Edge may hold it too.
    closed_lambdas = [a for a in others if a.get("EventType") != "viewer-request"]
    out["LambdaFunctionAssociations"] = {"Fn::If": [READY, [*others, sign_in], closed_lambdas or no_value]}
    functions = list(rendered.get("FunctionAssociations") or ())
    closed = [{"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": f"{CLOSED_FUNCTION}.FunctionARN"}}]
    closed += [f for f in functions if f.get("EventType") != "viewer-request"]
    out["FunctionAssociations"] = {"Fn::If": [READY, functions or no_value, closed]}
    return out


# -- the edge function's config ---------------------------------------------------------------------------


def jwks_url(outputs: Mapping[str, str]) -> str:
    """Where deploy reads the pool's public keys (Cognito publishes them for each pool)."""
    pool_id = _output(outputs, POOL_OUTPUT)
    return f"https://cognito-idp.{pool_id.split('_', 1)[0]}.amazonaws.com/{pool_id}/.well-known/jwks.json"


def config_from(app: App, outputs: Mapping[str, str], jwks: Mapping[str, Any]) -> dict[str, Any]:
    """What deploy bakes into the SiteAuth edge artifact (`lambdakit_edge.json`'s `config`) once the main
    stack exists: its outputs name the pool, client, domain and site; `jwks` is the pool's key set."""
    pool_id = _output(outputs, POOL_OUTPUT)
    domain = _output(outputs, DOMAIN_OUTPUT)
    region = pool_id.split("_", 1)[0]
    return _config(
        app,
        issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        client=_output(outputs, CLIENT_OUTPUT),
        jwks=jwks,
        hosted=f"https://{domain}",
        site_url=_output(outputs, SITE_URL_OUTPUT),
    )


def local_config(app: App, *, issuer: str, client: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """What `lambdakit local` runs the handler with: the local pool (moto's keys), the stand-in hosted sign-in
    on the same origin, and same-origin redirects (the local port is not known in advance)."""
    return _config(app, issuer=issuer, client=client, jwks=jwks, hosted=LOCAL_SIGNIN, site_url="")


def _config(
    app: App, *, issuer: str, client: str, jwks: Mapping[str, Any], hosted: str, site_url: str
) -> dict[str, Any]:
    from lambdakit.edge.jwt import keys_of

    found = declared(app.site)
    if found is None:
        raise ValueError(f"{app.package}: the site declares no auth=, so it has no sign-in to configure")
    keys = [dict(k) for k in jwks.get("keys", ()) if k.get("kty") == "RSA" and k.get("alg", "RS256") == "RS256"]
    if not keys_of({"keys": keys}):
        raise ValueError("the pool's key set holds no RS256 signing key")
    return {
        "issuer": issuer,
        "client_id": client,
        "keys": keys,
        "authorize_url": f"{hosted}/oauth2/authorize",
        "token_url": f"{hosted}/oauth2/token",
        "revoke_url": f"{hosted}/oauth2/revoke",
        "logout_url": f"{hosted}/logout",
        "site_url": site_url.rstrip("/"),
        "scopes": sorted(USER_CLIENT_SCOPES),
        "areas": list(found[1]),
        "index": app.site.index if app.site is not None else "index.html",
        "secure": True,
        "session_seconds": SESSION_SECONDS,
    }


def _output(outputs: Mapping[str, str], name: str) -> str:
    value = outputs.get(name)
    if not value:
        raise ValueError(f"the main stack has no output {name}: deploy it (with the site's auth=) first")
    return str(value)
