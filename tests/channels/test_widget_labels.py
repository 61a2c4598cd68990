"""The embeddable widget's labels (locales/<locale>/pages/widget.yml): served inside /widget.js for
every locale, picked in the visitor's language (`pt` is pt-BR, anything else falls back to
English), with no request the host page's CSP would have to allow, and no English left in the
widget's or the chat page's script. The browser part runs the served script on a routed host page
in headless Chromium (no stack, no Rasa)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Route, expect

from channels import webchat
from channels import widget as widget_script
from locales.catalog import SUPPORTED_LOCALES
from locales.pages import all_labels
from tests.handoff.test_console_labels import english_literals

HOST = "https://host.test/"
ASSISTANT = "https://assistant.test"
# The creditor's own policy: our script and our frame, nothing else (no connect-src at all).
HOST_CSP = f"default-src 'none'; script-src {ASSISTANT}; frame-src {ASSISTANT}; style-src 'unsafe-inline'"
HOST_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Creditor</title></head>
<body><p>Your invoice</p><script src="{src}/widget.js" async {attrs}></script></body></html>"""


@pytest.fixture(scope="module")
def served() -> str:
    app = FastAPI()
    app.include_router(webchat.router)
    response = TestClient(app).get("/widget.js")
    assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff"
    return response.text


def baked(script: str) -> dict[str, dict[str, str]]:
    start = script.index("var LABELS = ") + len("var LABELS = ")
    labels: dict[str, dict[str, str]] = json.loads(script[start : script.index(";\n", start)])
    return labels


def test_widget_js_carries_the_labels_of_every_locale(served: str) -> None:
    assert served.isascii()  # decoded with the host page's charset
    assert widget_script.MARKER not in served
    labels = baked(served)
    assert labels == {code: all_labels(code)["widget"] for code in SUPPORTED_LOCALES}
    assert labels["pt-BR"]["close"] == "Fechar conversa" and labels["de"]["close"] == "Chat schließen"


def test_no_english_ui_text_is_left_in_the_widget_or_the_chat_script() -> None:
    for path in (widget_script.SOURCE, widget_script.SOURCE.with_name("webchat.js")):
        assert english_literals(path.read_text(encoding="utf-8")) == [], path.name


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("attrs", "page_lang", "browser_locale", "expected"),
    [
        ('data-locale="pt"', "en", "en-GB", "pt-BR"),  # the site's choice, by language alone
        ('data-locale="sv_SE"', "en", "en-GB", "sv"),
        ("", "de-AT", "en-GB", "de"),  # no choice: the host page's language
        ("", "fr", "pt-BR", "pt-BR"),  # then the browser's
        ('data-locale="fr"', "fr", "fr-FR", "en"),  # nothing supported: English
    ],
)
def test_the_widget_speaks_the_visitors_language_under_a_strict_host_policy(
    browser: Browser,
    contexts: list[BrowserContext],
    served: str,
    attrs: str,
    page_lang: str,
    browser_locale: str,
    expected: str,
) -> None:
    labels = all_labels(expected)["widget"]
    context = browser.new_context(locale=browser_locale)
    contexts.append(context)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    frames: list[str] = []

    def assistant(route: Route) -> None:
        if route.request.url == f"{ASSISTANT}/widget.js":
            route.fulfill(status=200, content_type="application/javascript", body=served)
        else:  # the chat page in the iframe: not under test here
            frames.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>chat</title>")

    html = HOST_PAGE.format(lang=page_lang, src=ASSISTANT, attrs=attrs)
    page.route(HOST, lambda route: route.fulfill(status=200, headers={"Content-Security-Policy": HOST_CSP}, body=html))
    page.route(f"{ASSISTANT}/**", assistant)
    page.goto(HOST)

    launcher = page.get_by_test_id("widget-launcher")
    expect(launcher).to_have_attribute("aria-label", labels["open"])
    expect(page.get_by_test_id("widget-close")).to_have_attribute("aria-label", labels["close"])
    expect(page.get_by_test_id("widget-panel")).to_have_attribute("aria-label", labels["frame"])
    launcher.click()
    expect(page.locator("iframe")).to_have_attribute("title", labels["frame"])
    assert len(frames) == 1 and "embed=1" in frames[0]
    if 'data-locale="pt"' in attrs:
        assert "lang=pt" in frames[0]  # the chat page follows the site's choice, too
    assert problems == [], problems  # no CSP violation, no script error
