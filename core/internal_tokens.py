"""Shared tokens between our own processes, so nothing else on the machine (or the network) can
drive them: whoever can call the action server's `/webhook` chooses the tracker it is sent
(`verified` included), whoever can call Rasa's HTTP API reads every conversation, whoever can
call `/nlg` renders any text with any arguments.

- ACTION_SERVER_TOKEN: Rasa -> action server (`Authorization: Bearer`, bot/endpoints.yml),
  checked by bot/action_server.py.
- RASA_AUTH_TOKEN: gateway, inbox worker and admin -> Rasa (`?token=`, Rasa's `--auth-token`
  for its HTTP API; bot/connectors/token_auth.py for the gateway and REST channels).
- NLG_TOKEN: Rasa -> the gateway's `/nlg` (`Authorization: Bearer`, bot/endpoints.yml).

They are settings like every other secret (environment, NAME_FILE, SECRETS_DIR; masked in logs).
`make run` writes missing ones to var/secrets.env on first start (`python -m app.internal_tokens
var/secrets.env`), and honcho hands that file to every process. Unset means refused: a process
without its token answers 401 to everyone rather than to no one.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

TOKEN_NAMES = ("ACTION_SERVER_TOKEN", "RASA_AUTH_TOKEN", "NLG_TOKEN")
TOKEN_BYTES = 32
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Z0-9_]+)=", re.M)


class InternalTokenSettings(BaseSettings):
    """The three tokens, on every process's settings class (secret: never shown)."""

    action_server_token: SecretStr | None = None
    rasa_auth_token: SecretStr | None = None
    nlg_token: SecretStr | None = None


def token_matches(sent: str | None, expected: SecretStr | None) -> bool:
    """Constant-time comparison; no expected token means nothing matches (fail closed)."""
    if not sent or expected is None or not expected.get_secret_value():
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.get_secret_value().encode("utf-8"))


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, value = (authorization or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def generate() -> dict[str, str]:
    """A fresh value for every token (tests and benchmark stacks make their own)."""
    return {name: secrets.token_urlsafe(TOKEN_BYTES) for name in TOKEN_NAMES}


def ensure_file(path: Path) -> list[str]:
    """Append the tokens missing from `path` (created 0600), keeping existing ones: restarts keep
    their tokens, a token added in a later release is generated once. Returns the names added."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    present = set(_LINE.findall(existing))
    missing = {name: value for name, value in generate().items() if name not in present}
    if missing:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            if existing and not existing.endswith("\n"):
                out.write("\n")
            out.writelines(f"{name}={value}\n" for name, value in missing.items())
    os.chmod(path, 0o600)
    return list(missing)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m app.internal_tokens var/secrets.env", file=sys.stderr)
        return 2
    added = ensure_file(Path(argv[0]))
    if added:  # names only: the values are never printed
        print(f"Generated {', '.join(added)} in {argv[0]} (internal service tokens)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
