"""A fake Twilio Messages API on loopback, for tests that drive the real twilio SDK.

The fake is a real HTTP server on ``127.0.0.1``. The code under test reaches it through the SDK's
own seam, a custom HTTP client: ``LoopbackTwilioHttpClient`` is an ``AsyncTwilioHttpClient`` that
rewrites ``https://api.twilio.com`` (and regional/edge hosts) to the fake's URL. Nothing in the SDK
is patched, so request encoding, Basic auth and error mapping (``TwilioRestException``) are
Twilio's.

Usage::

    with FakeTwilio() as fake:
        http = fake.http_client()                      # inside a running event loop (aiohttp)
        output = TwilioOutput(channel="sms", account_sid=fake.account_sid,
                              auth_token=fake.auth_token, from_number="+15005550006",
                              http_client=http)
        await output.send(to="+46701234567", reply=Reply("Hi"), context=OutboundContext(locale="en"))
        assert fake.messages[0].body == "Hi"
        await http.close()

Served: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded ``To``, ``From``,
``Body``, ``StatusCallback``, ``ContentSid``, ``ContentVariables``, ``MediaUrl``,
``MessagingServiceSid``), answered with a Twilio-shaped Message resource (201, ``sid`` ``SM...``,
``status`` ``queued``). Basic auth must be the fake's account SID and auth token, else a 401
like Twilio's (error 20003); another account's path gives 404 (20404). Validation mirrors Twilio's
errors: 21604 (no To), 21603 (no From), 21602 (no Body/MediaUrl/ContentSid), 21617 (Body over
1600 characters), 21211 (To not E.164), 21910 (a WhatsApp and a non-WhatsApp address mixed), 21656
(ContentVariables not a JSON object). ``fail_next(n, code=..., message=..., status=...)`` makes the
next n message requests fail with that Twilio error (default 21610, unsubscribed recipient).

Nothing is pushed to webhooks: ``status_callback_form`` and ``inbound_form`` build the forms
Twilio would POST, and ``signed`` signs them like Twilio does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from twilio.request_validator import RequestValidator

from channels.twilio import RedirectedTwilioHttpClient
from tests.fakes.loopback import LoopbackFake, Response

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "FakeTwilio",
    "LoopbackTwilioHttpClient",
    "RecordedRequest",
    "SentMessage",
    "inbound_form",
    "signed",
]

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake_auth_token_0123456789abcdef"
MAX_BODY = 1600
WHATSAPP = "whatsapp:"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")

# GSM 03.38 basic set (one septet each) and extension set (two septets each), for num_segments.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _segments(body: str) -> int:
    """SMS segments for `body`: GSM-7 160/153 septets, else UCS-2 70/67 code units."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        size, single, multi = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body), 160, 153
    else:
        size, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    if size <= single:
        return 1
    return -(-size // multi)


# --- Webhook helpers -----------------------------------------------------------------------------


def signed(url: str, params: dict[str, str], auth_token: str) -> tuple[dict[str, str], str]:
    """``(params, X-Twilio-Signature value)`` as Twilio would send them to `url`, signed by the SDK."""
    params = dict(params)
    return params, RequestValidator(auth_token).compute_signature(url, params)


def inbound_form(
    *,
    channel: str,
    from_: str,
    to: str,
    body: str,
    message_sid: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    num_media: int = 0,
    profile_name: str = "Test Person",
) -> dict[str, str]:
    """The form Twilio POSTs to the incoming-message webhook. `from_` and `to` are E.164 numbers;
    for WhatsApp the ``whatsapp:`` prefix is added as Twilio does."""
    sid = message_sid or _sid("SM")
    prefix = WHATSAPP if channel == "whatsapp" else ""
    form = {
        "ToCountry": "SE",
        "SmsMessageSid": sid,
        "NumMedia": str(num_media),
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "SE",
        "To": prefix + to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": prefix + from_,
        "ApiVersion": API_VERSION,
    }
    if channel == "whatsapp":
        form.update(ProfileName=profile_name, WaId=from_.lstrip("+"), MessageType="text" if not num_media else "image")
        for key in ("ToCountry", "FromCountry"):
            form.pop(key)
    for index in range(num_media):
        form[f"MediaUrl{index}"] = (
            f"https://api.twilio.com/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media/{_sid('ME')}"
        )
        form[f"MediaContentType{index}"] = "image/jpeg"
    return form


# --- The custom HTTP client ----------------------------------------------------------------------


class LoopbackTwilioHttpClient(RedirectedTwilioHttpClient):
    """The production redirecting client, pointed at this fake."""


class RecordedRequest(NamedTuple):
    """One request as received; ``form`` is the parsed body (last value per key), ``headers`` lower-cased."""

    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted, with the parameters it was created with."""

    sid: str
    to: str
    from_: str
    body: str | None
    status_callback: str | None
    content_sid: str | None
    content_variables: dict[str, str] | None
    params: dict[str, str] = field(repr=False)


class _ApiError(Exception):
    """Becomes Twilio's error JSON: ``{"code", "message", "more_info", "status"}``."""

    def __init__(self, status: int, code: int, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        body.update(more_info=f"https://www.twilio.com/docs/errors/{self.code}", status=self.status)
        return body


class FakeTwilio(LoopbackFake):
    """A Twilio Messages API on ``127.0.0.1`` with a free port, served from a background thread.

    State the test can read once a call has returned: ``messages`` (every ``SentMessage``
    accepted, in order), ``requests`` (every ``RecordedRequest``, rejected ones included) and
    ``resources`` (sid -> the Message resource as served).
    """

    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        super().__init__(host)
        self.messages: list[SentMessage] = []
        self.requests: list[RecordedRequest] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self._failures: list[_ApiError | None] = []  # queued outcomes; None lets a request through
        self._lock = threading.RLock()

    def http_client(self, **kwargs: Any) -> LoopbackTwilioHttpClient:
        """A twilio async HTTP client talking to this fake (call inside a running event loop)."""
        return LoopbackTwilioHttpClient(self.url, **kwargs)

    # -- test controls --

    def fail_next(
        self,
        count: int = 1,
        *,
        code: int = 21610,
        message: str = "Attempt to send to unsubscribed recipient",
        status: int = 400,
        after: int = 0,
    ) -> None:
        """Answer `count` authenticated message requests with this Twilio error, once `after` more
        have gone through normally (``after=1``: the second part of a split message fails)."""
        with self._lock:
            self._failures.extend([None] * after)
            self._failures.extend(_ApiError(status, code, message) for _ in range(count))

    def status_callback_form(self, sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
        """The form Twilio POSTs to a message's StatusCallback URL when its status changes."""
        with self._lock:
            resource = self.resources[sid]
            resource["status"] = status
            if error_code is not None:
                resource["error_code"] = error_code
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "From": resource["from"],
            "To": resource["to"],
            "ApiVersion": API_VERSION,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    # -- HTTP --

    def _handle(self, method: str, target: str, raw: bytes, headers: dict[str, str]) -> Response:
        with self._lock:
            path = urlsplit(target).path
            pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True) if method == "POST" else []
            form = dict(pairs)
            self.requests.append(RecordedRequest(method, path, form, headers))
            try:
                self._authenticate(headers)
                match = _MESSAGES.fullmatch(path)
                if match is None or method != "POST" or match["account"] != self.account_sid:
                    raise _ApiError(404, 20404, f"The requested resource {path} was not found")
                failure = self._failures.pop(0) if self._failures else None
                if failure is not None:
                    raise failure
                return Response(201, json.dumps(self._create(form, pairs), indent=2).encode("utf-8"))
            except _ApiError as error:
                return Response(error.status, json.dumps(error.body()).encode("utf-8"))

    def _authenticate(self, headers: dict[str, str]) -> None:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        user = password = ""
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                user, _, password = base64.b64decode(credentials).decode("utf-8").partition(":")
        if not (secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)):
            raise _ApiError(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")

    def _create(self, form: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, Any]:
        to, from_ = form.get("To", ""), form.get("From", "")
        body, content_sid = form.get("Body"), form.get("ContentSid")
        media = [value for key, value in pairs if key == "MediaUrl"]
        if not to:
            raise _ApiError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not form.get("MessagingServiceSid"):
            raise _ApiError(400, 21603, "A 'From' phone number is required.")
        if not body and not media and not content_sid:
            raise _ApiError(400, 21602, "Message body is required.")
        if body is not None and len(body.encode("utf-16-le")) // 2 > MAX_BODY:
            raise _ApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if from_ and to.startswith(WHATSAPP) != from_.startswith(WHATSAPP):
            raise _ApiError(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
        if not _E164.fullmatch(to.removeprefix(WHATSAPP)):
            raise _ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        variables: dict[str, str] | None = None
        if "ContentVariables" in form:
            try:
                parsed = json.loads(form["ContentVariables"])
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
                raise _ApiError(400, 21656, "The ContentVariables Parameter is invalid.")
            variables = parsed
        sid = _sid("MM" if media else "SM")
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": str(len(media)),
            "num_segments": str(_segments(body) if body and not to.startswith(WHATSAPP) else 1),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self.resources[sid] = resource
        self.messages.append(
            SentMessage(
                sid=sid,
                to=to,
                from_=from_,
                body=body,
                status_callback=form.get("StatusCallback"),
                content_sid=content_sid,
                content_variables=variables,
                params=dict(form),
            )
        )
        return resource
