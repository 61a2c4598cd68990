"""The template step (app/templates.py): page labels from locales/<locale>/pages/<section>.yml in the four
locales, the web chat page's language, the staff member's chosen language, and a strict CSP on
every HTML page (no inline script, no inline event handlers) — in-process, no Rasa."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from backoffice.admin.pages import PAGES
from core.database import make_engine
from core.templates import PACKAGES, ROOT
from locales.catalog import LOCALES_DIR, SUPPORTED_LOCALES
from locales.pages import all_labels, from_accept_language
from people.auth import deps
from people.auth import service as auth_service
from people.auth.models import Role
from tests.databases import fresh_postgres
from tests.handoff.test_authz import api_routes
from tests.stack import free_port

PASSWORD = "a long enough password"
PG_DATABASE = "debtor_assistant_pages"
INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)


def keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in tree.items():
        found |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
    return found


def leaves(tree: dict[str, Any]) -> list[Any]:
    return [leaf for value in tree.values() for leaf in (leaves(value) if isinstance(value, dict) else [value])]


def test_every_locale_has_the_same_page_labels_and_none_is_empty() -> None:
    english = keys(all_labels("en"))
    assert {path.name for path in (LOCALES_DIR / "en" / "pages").glob("*.yml")} >= {"webchat.yml", "console.yml"}
    for locale in SUPPORTED_LOCALES:
        files = {path.name for path in (LOCALES_DIR / locale / "pages").glob("*.yml")}
        assert files == {path.name for path in (LOCALES_DIR / "en" / "pages").glob("*.yml")}, locale
        assert keys(all_labels(locale)) == english, locale
        assert all(isinstance(v, str) and v.strip() for v in leaves(all_labels(locale))), locale


@pytest.mark.parametrize(
    ("header", "expected"),
    [("pt-BR,pt;q=0.9", "pt-BR"), ("pt", "pt-BR"), ("fr-FR, de;q=0.5, sv;q=0.8", "sv"), ("fr", None), ("", None)],
)
def test_accept_language_picks_the_best_supported_locale(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def assert_no_inline_script(html: str, where: str) -> None:
    for attributes, body in INLINE_SCRIPT.findall(html):
        assert not body.strip() or 'type="application/json"' in attributes, f"inline script in {where}"
    assert not EVENT_HANDLER.search(html), f"inline event handler in {where}"
    assert "style=" not in html, f"inline style in {where}"


def test_no_template_holds_inline_script() -> None:
    templates = [path for folder in PACKAGES.values() for path in (ROOT / folder / "templates").glob("*.html")]
    assert len(templates) >= 12
    for path in templates:
        assert_no_inline_script(path.read_text(encoding="utf-8"), str(path))


async def _prepare(url: str) -> None:
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        for name, role in (("agent", Role.AGENT), ("admin", Role.ADMIN)):
            await auth_service.create_user(
                session=session, username=f"{name}@example.org", password=PASSWORD, display_name=name, role=role
            )
        await session.commit()
    await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('pages') / 'pages.db'}"
    else:
        url = asyncio.run(fresh_postgres(PG_DATABASE))
    migrate(url)
    asyncio.run(_prepare(url))
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, assistant_env="demo"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def login(client: TestClient, who: str) -> str:
    client.cookies.clear()
    reply = client.post("/agent/api/login", json={"username": f"{who}@example.org", "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["csrf_token"])


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_web_chat_page_speaks_the_visitors_language(client: TestClient, locale: str) -> None:
    labels = all_labels(locale)["webchat"]
    for page in (client.get(f"/?lang={locale}"), client.get("/", headers={"Accept-Language": f"{locale},en;q=0.1"})):
        assert page.status_code == 200
        assert f'<html lang="{locale}">' in page.text
        for key in ("title", "end", "input", "typing", "noscript"):
            assert escape(labels[key]) in page.text, (locale, key)
    assert '<html lang="pt-BR">' in client.get("/", headers={"Accept-Language": "pt"}).text


def test_console_and_admin_follow_the_staff_members_choice(client: TestClient) -> None:
    csrf = login(client, "admin")
    assert client.post("/agent/api/me/locale", json={"locale": "de"}).status_code == 403  # no CSRF token
    refused = client.post("/agent/api/me/locale", json={"locale": "fr"}, headers={deps.CSRF_HEADER: csrf})
    assert refused.status_code == 422
    for locale in SUPPORTED_LOCALES:
        saved = client.post("/agent/api/me/locale", json={"locale": locale}, headers={deps.CSRF_HEADER: csrf})
        assert saved.status_code == 200 and saved.json()["locale"] == locale
        labels = all_labels(locale)
        # The browser asks for English: the saved choice wins.
        console = client.get("/agent", headers={"Accept-Language": "en"})
        assert console.status_code == 200 and f'<html lang="{locale}">' in console.text
        assert escape(labels["console"]["title"]) in console.text and escape(labels["console"]["take"]) in console.text
        admin = client.get("/agent/admin/tone", headers={"Accept-Language": "en"})
        assert escape(labels["staff"]["tone"]) in admin.text and escape(labels["staff"]["language"]) in admin.text
    assert login(client, "agent") and client.get("/agent").text.count('<html lang="en">') == 1  # another member


def html_paths(client: TestClient) -> list[str]:
    paths = ["/payments/return?status=success&locale=sv", *(f"/agent/admin/{page}" for page in PAGES)]
    for path, route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        # Pages are outside the API schema or declared HTML (JSON and streaming routes are not pages).
        page = not route.include_in_schema or route.response_class is HTMLResponse
        if "GET" in route.methods and "{" not in path and page:
            paths.append(path)
    return paths


def test_every_html_page_sends_a_strict_policy_and_no_inline_script(client: TestClient) -> None:
    login(client, "admin")
    checked = []
    for path in html_paths(client):
        reply = client.get(path)
        if not reply.headers.get("content-type", "").startswith("text/html"):
            continue
        checked.append(path)
        policy = reply.headers.get("content-security-policy", "")
        script_src = next((d for d in policy.split(";") if d.strip().startswith("script-src")), "")
        assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, path
        assert "frame-ancestors" in policy, path
        assert_no_inline_script(reply.text, path)
    assert {"/", "/agent", "/agent/admin", "/agent/admin/privacy", "/docs", "/redoc"} <= set(checked)
    # The widget frames the chat page on the creditor's site; staff pages are never framed.
    assert "frame-ancestors *" in client.get("/").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in client.get("/agent").headers["content-security-policy"]
