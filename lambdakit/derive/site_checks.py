"""The mistakes of a site's declarations that AWS or the browser would reject, each with its fix.

Pure functions of the declarations (`lk.Frontend`, a `cdn=True` service's domain and
certificate), run by the build; the shipped `declare/site.py` stays plain data.
"""

from __future__ import annotations

import os
import re

from lambdakit.declare.site import Frontend

_PATH = re.compile(r"^(/[A-Za-z0-9_-]+)+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")


def domain_problems(where: str, domain: str | None) -> list[str]:
    if domain is None or _DOMAIN.match(domain):
        return []
    return [f"{where}: domain={domain!r} is not a domain name (lower case, e.g. 'www.example.com')"]


def frontend_problems(site: Frontend, where: str) -> list[str]:
    """The mistakes of a `lk.Frontend`, each naming where it is declared."""
    found = []
    if not os.path.isfile(os.path.join(site.root, site.index)):
        found.append(
            f"{where}: {site.folder!r} (resolved to {site.root}) holds no {site.index}; build the SPA into "
            "that folder, or give the folder relative to the module that declares the site"
        )
    found += domain_problems(where, site.domain)
    found += certificate_problems(where, site.certificate, site.domain)
    paths = []
    if site.api_path is not None:
        if not _PATH.match(site.api_path):
            found.append(f"{where}: api_path={site.api_path!r}; give a path such as '/api' (no trailing slash)")
        paths.append(site.api_path)
    for mount in site.mounts:
        label = f"{where}: mount({mount.path!r})"
        if not isinstance(mount.path, str) or not _PATH.match(mount.path):
            found.append(
                f"{label}: give a path such as '/api/catalog': letters, digits, '-' and '_' between the "
                "slashes, no trailing slash"
            )
        if (mount.package is None) == (mount.origin is None):
            found.append(f"{label}: give a package or origin=, not both")
        if mount.origin is not None and not re.match(r"^https://[a-z0-9.-]+(:\d+)?(/[^?#]*)?$", mount.origin):
            found.append(f"{label}: origin={mount.origin!r} must be an https:// URL without query or fragment")
        paths.append(mount.path)
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        found.append(f"{where}: {', '.join(twice)} is served twice (api_path and mounts must differ)")
    words = [re.sub(r"[^a-z0-9]", "", p.lower()) for p in paths]
    alike = sorted({p for p, w in zip(paths, words, strict=True) if words.count(w) > 1 and paths.count(p) == 1})
    if alike:
        found.append(
            f"{where}: {' and '.join(alike)} differ only in their separators, and their resources would share "
            "names; give them paths that differ in letters or digits"
        )
    from lambdakit.derive import routing

    found += routing.declaration_problems(site, where)  # ab_test=, rollout=, failover=
    from lambdakit.derive import site_auth

    found += site_auth.problems(site, where)  # auth=
    for option, value in site.edge.items():
        if value is not None and option not in routing.OPTIONS and option != "auth":
            found.append(
                f"{where}: {option}= is not built yet (it comes with lambdakit's edge features); "
                "remove it to deploy the site without it"
            )
    return found


def certificate_problems(where: str, certificate: str | None, domain: str | None) -> list[str]:
    """A CloudFront certificate must be an ACM ARN in us-east-1, for a site that has a domain."""
    if certificate is None:
        return []
    found = _CERTIFICATE.match(certificate)
    if found is None:
        return [f"{where}: certificate={certificate!r} is not an ACM certificate ARN"]
    problems = []
    if found.group(1) != "us-east-1":
        problems.append(
            f"{where}: certificate= is in {found.group(1)}; CloudFront takes certificates from us-east-1 only "
            "(request one there, or leave certificate= out and lambdakit creates it)"
        )
    if domain is None:
        problems.append(f"{where}: certificate= without domain=; name the domain the certificate is for")
    return problems
