"""The one template step for every HTML page (web chat, console, admin, payments sandbox).

One Jinja2 environment with autoescape; each feature keeps its templates in `<package>/templates/`
and names them `<name>/<file>.html` (e.g. `channels/webchat.html`); the shared layout is
`core/base.html`. Labels come from `locales/<locale>/pages/<section>.yml` (locales/pages.py). Every page is
sent with a strict Content-Security-Policy: no inline script, so the pages keep their code in
static files and their labels in a JSON data island (`<script type="application/json">`, never run).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, PrefixLoader, StrictUndefined, select_autoescape

ROOT = Path(__file__).resolve().parent.parent
# The packages that serve pages (template prefix -> package folder); a template is looked up only
# in that package's `templates/`.
PACKAGES: dict[str, str] = {
    "core": "core",
    "app": "app",
    "channels": "channels",
    "handoff": "handoff",
    "admin": "backoffice/admin",
    "payments": "payments",
}

ENV = Environment(
    loader=PrefixLoader({name: FileSystemLoader(ROOT / folder / "templates") for name, folder in PACKAGES.items()}),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a missing label fails the render (and the tests), never shows blank
    trim_blocks=True,
    lstrip_blocks=True,
)


def csp(*, frame_ancestors: str = "'none'", cdn: str = "") -> str:
    """The policy every page gets. Only who may frame the page differs (the web chat is embedded),
    and the API docs may load Swagger UI / ReDoc from their CDN (`cdn`); ReDoc injects its styles
    at run time, so those pages alone allow inline *styles* — scripts never run inline anywhere."""
    style = f"'self' 'unsafe-inline' {cdn}" if cdn else "'self'"
    return (
        f"default-src 'self'; script-src 'self'{' ' + cdn if cdn else ''}; style-src {style}; "
        f"img-src 'self' data:{' ' + cdn if cdn else ''}; font-src 'self'{' ' + cdn if cdn else ''}; "
        f"worker-src 'self' blob:; connect-src 'self' ws: wss:; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def page_headers(*, frame_ancestors: str = "'none'", cache: str = "no-store", cdn: str = "") -> dict[str, str]:
    headers = {
        "Content-Security-Policy": csp(frame_ancestors=frame_ancestors, cdn=cdn),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    return headers


def render(name: str, context: Mapping[str, Any]) -> str:
    return ENV.get_template(name).render(**context)


def page(
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    frame_ancestors: str = "'none'",
    cache: str = "no-store",
    cdn: str = "",
) -> HTMLResponse:
    """Render `name` and send it with the strict page headers."""
    return HTMLResponse(
        render(name, context),
        status_code=status_code,
        headers=page_headers(frame_ancestors=frame_ancestors, cache=cache, cdn=cdn),
    )
