"""The local console at `/_lambdakit/`: a page over the running app (`api.py` answers its JSON).

Plain files beside this module (`index.html`, `console.js`, `console.css`,
`favicon.svg`), served as they are: no build step, nothing fetched from
elsewhere, no inline script or style, so the page runs under the strict
Content-Security-Policy it is served with. `lambdakit/local/` is never
copied into a deployed artifact (`build.RUNTIME_DIRS`), so neither is this.
"""

from __future__ import annotations

from importlib import resources

#: The console's files, by the name they are served under, with their media type.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",  # so the browser does not ask the app for /favicon.ico
}

#: Everything from this origin, nothing inline, no frames, no form posts elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

#: The headers every console file is served with (read again on each request, so an edit shows on reload).
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def asset(name: str) -> tuple[bytes, str] | None:
    """(the file's bytes, its media type) for a console file, or None when there is no such file."""
    media = FILES.get(name)
    if media is None:
        return None
    return resources.files(__name__).joinpath(name).read_bytes(), media
