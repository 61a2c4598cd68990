"""Issue 15 point 6 for the admin pages: their text comes from locales/<locale>/pages/admin.yml in
the admin's chosen language — the templates' text in the HTML, the scripts' labels in the JSON data
island — and every label a script looks up exists in all four locales (in-process, no Rasa)."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import GatewaySettings
from app.main import create_app
from app.manage import migrate
from backoffice.admin.pages import PAGES, STATIC
from core.database import make_engine
from locales.catalog import SUPPORTED_LOCALES
from locales.pages import all_labels
from people.auth import deps
from people.auth import service as auth_service
from people.auth.models import Role
from tests.core.test_pages import assert_no_inline_script
from tests.stack import free_port

PASSWORD = "a long enough password"
SECTIONS = ("common", *PAGES)
ISLAND = re.compile(r'<script type="application/json" id="labels">(.*?)</script>', re.S)
BODY = re.compile(r"<main>(.*)</main>", re.S)
# A label key written out in a script: "<section>.<key>..." (a trailing dot: a group, completed at run time).
KEY = re.compile(rf'"((?:{"|".join(SECTIONS)})\.[a-z0-9_.]*)"')
# Keys used as groups: the label of a value from the API, or a count's plural forms.
GROUP_CALL = re.compile(r'(?:\bAdmin\.|(?<![\w.]))(?:pick|plural|has)\(\s*"([a-z0-9_.]+)"')
# Local shorthands such as `const k = (key, values) => t("dashboard.kpi." + key, values);`.
HELPER = re.compile(r'const (\w+) = \((\w+)(?:, \w+)?\) => t\("([a-z0-9_.]+\.)" \+ \2\b')
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Attributes that hold names, not text (`id="winner"` is no English left on the page).
CODE_ATTRIBUTE = re.compile(r'\s(?!aria-label=|title=|placeholder=)[\w-]+="[^"]*"')


def admin(locale: str) -> dict[str, Any]:
    return dict(all_labels(locale)["admin"])


def resolve(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.strip(".").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in tree.items():
        found.update(leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return found


def script_lookups() -> tuple[set[str], set[str]]:
    """(label keys, group keys) the admin scripts look up, read from their source."""
    labels: set[str] = set()
    groups: set[str] = set()
    for path in sorted(STATIC.glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for key in KEY.findall(source):
            (groups if key.endswith(".") else labels).add(key.rstrip("."))
        for name, _, prefix in HELPER.findall(source):
            labels |= {prefix + key for key in re.findall(rf'\b{name}\(\s*"([a-z0-9_]+)"', source)}
        groups |= set(GROUP_CALL.findall(source))
    return labels - groups, groups


def test_every_label_the_scripts_look_up_exists_in_every_locale() -> None:
    labels, groups = script_lookups()
    assert len(labels) > 200 and len(groups) > 20  # the parser still finds the scripts' lookups
    assert {"dashboard.kpi.conversations_detail", "tone.errors.too_long", "intents.untrained"} <= labels | groups
    for locale in SUPPORTED_LOCALES:
        tree = admin(locale)
        missing = sorted(key for key in labels if not isinstance(resolve(tree, key), str))
        not_groups = sorted(key for key in groups if not isinstance(resolve(tree, key), dict))
        assert not missing and not not_groups, (locale, missing, not_groups)


def test_translations_keep_the_placeholders_of_the_english_labels() -> None:
    english = leaves(admin("en"))
    for locale in SUPPORTED_LOCALES:
        for key, text in leaves(admin(locale)).items():
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (locale, key)


# Labels that read the same as in English because the language says it so (names, loanwords,
# symbols); anything else equal to the English text is a label left untranslated.
SAME_AS_ENGLISH = {
    "sv": {
        "Administration",
        "Champion",
        "Experiment",
        "IP",
        "Segment",
        "Status",
        "Telegram",
        "Text",
        "Variant",
        "Version",
        "WhatsApp",
        "system",
        "(version {id})",
        "Text ({tone})",
        "{key} (variant {variant})",
        "{max} per {window}",
        "{n} text",
    },
    "de": {
        "(live)",
        "Champion",
        "Experiment",
        "IP",
        "Intent",
        "Intents",
        "Name",
        "SMS",
        "Segment",
        "Status",
        "Telegram",
        "Text",
        "Text ({tone})",
        "Training",
        "Version",
        "WhatsApp",
    },
    "pt-BR": {"Formal", "formal", "IP", "Macro-F1", "SMS", "Status", "Telegram", "WhatsApp"},
}
SYMBOLS = re.compile(r"^[\W\d]*(?:\{\w+\}[\W\d]*)*(?:[a-z]\W*)?(?:\{\w+\}[\W\d]*)*$")  # "v{id}", "{n} s"


def test_no_label_is_left_in_english() -> None:
    english = leaves(admin("en"))
    for locale, allowed in SAME_AS_ENGLISH.items():
        same = {text for key, text in leaves(admin(locale)).items() if text == english[key] and not SYMBOLS.match(text)}
        assert same <= allowed, (locale, sorted(same - allowed))


async def _prepare(url: str) -> None:
    engine = make_engine(url)
    async with AsyncSession(engine) as session:
        await auth_service.create_user(
            session=session, username="admin@example.org", password=PASSWORD, display_name="Ada", role=Role.ADMIN
        )
        await session.commit()
    await engine.dispose()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Rendering is the same on either database: SQLite keeps this quick."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('admin-labels') / 'labels.db'}"
    migrate(url)
    asyncio.run(_prepare(url))
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=url, rasa_url=dead, action_server_url=dead, health_timeout_seconds=0.5, assistant_env="demo"
    )
    with TestClient(create_app(settings)) as client:
        reply = client.post("/agent/api/login", json={"username": "admin@example.org", "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        client.headers[deps.CSRF_HEADER] = reply.json()["csrf_token"]
        yield client


def page_in(client: TestClient, locale: str, path: str) -> tuple[str, dict[str, Any], str]:
    """(page body, data island, whole page) as the admin sees it after choosing `locale`."""
    assert client.post("/agent/api/me/locale", json={"locale": locale}).status_code == 200
    reply = client.get(path, headers={"Accept-Language": "en"})  # the saved choice wins
    assert reply.status_code == 200, path
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0], path
    assert "frame-ancestors 'none'" in policy
    assert_no_inline_script(reply.text, path)
    assert f'<html lang="{locale}">' in reply.text
    island = ISLAND.search(reply.text)
    assert island is not None, path
    body = BODY.search(reply.text)
    assert body is not None, path
    return CODE_ATTRIBUTE.sub("", body.group(1)), json.loads(html.unescape(island.group(1))), reply.text


def shown(text: str, body: str) -> bool:
    """`text` as a whole text of the page: an element's text, an attribute or a piece between two
    elements — not part of a longer one ("Activate" in "Activate this model", "To" in "Todos")."""
    pattern = rf'(?:[>"(]|\.\s)\s*{re.escape(str(escape(text)))}(?=\s*[<"]|\s\()'
    return re.search(pattern, body) is not None


@pytest.mark.parametrize("name", ["index", *PAGES])
def test_each_admin_page_speaks_the_admins_language(client: TestClient, name: str) -> None:
    path = "/agent/admin" if name == "index" else f"/agent/admin/{name}"
    english_body, _, _ = page_in(client, "en", path)
    english = admin("en")
    section = {k: v for k, v in english.items() if isinstance(v, str)} | {
        f"{name}.{k}": v for k, v in leaves(english.get(name, {})).items()
    }
    # The English labels this page's HTML shows: each must be replaced in the other languages.
    rendered = {key: text for key, text in section.items() if shown(text, english_body)}
    assert len(rendered) >= (2 if name == "index" else 20), rendered
    for locale in ("de", "sv", "pt-BR"):
        body, island, _ = page_in(client, locale, path)
        labels = admin(locale)
        assert island == {"common": labels["common"], **({name: labels[name]} if name != "index" else {})}
        for key, text in rendered.items():
            own = str(resolve(labels, key))
            assert shown(own, body), (locale, key, own)
            if own != text:
                assert not shown(text, body), (locale, key, text)
