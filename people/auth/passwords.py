"""Staff password policy, after NIST SP 800-63B: long enough, not built on the username, not a
common password. No composition rules ("one digit, one symbol": they make passwords more
predictable, not stronger) and no forced expiry; the hash is argon2id and logins are rate-limited.

The common list is config/common-passwords.txt; a password is compared whole and as its stem
(leading and trailing digits and symbols removed), so "Password2024!" is as common as "password".
Refusals are AuthError codes the API returns as its `detail` (422).
"""

from __future__ import annotations

import secrets
import string
from functools import lru_cache
from pathlib import Path

from core.config import ROOT

COMMON_PASSWORDS_FILE = ROOT / "config" / "common-passwords.txt"
MIN_CHARS = 12
MAX_CHARS = 1024  # argon2 takes any length; this only bounds the work per attempt
MIN_USERNAME_PART = 3  # shorter username parts ("al") would refuse too many good passwords
_PADDING = string.digits + string.punctuation + string.whitespace

WEAK = "weak_password"  # too short or too long
CONTAINS_USERNAME = "password_contains_username"
TOO_COMMON = "password_too_common"


@lru_cache(maxsize=1)
def common_passwords(path: Path = COMMON_PASSWORDS_FILE) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _username_parts(username: str) -> set[str]:
    name = username.strip().lower()
    local = name.split("@", 1)[0]
    return {part for part in (name, local) if len(part) >= MIN_USERNAME_PART}


def problem(*, password: str, username: str) -> str | None:
    """The policy's objection to `password` for `username` (a code), or None when it is fine."""
    if not MIN_CHARS <= len(password) <= MAX_CHARS:
        return WEAK
    lowered = password.lower()
    if any(part in lowered for part in _username_parts(username)):
        return CONTAINS_USERNAME
    common = common_passwords()
    if lowered in common or lowered.strip(_PADDING) in common:
        return TOO_COMMON
    return None


def generate(*, username: str = "") -> str:
    """A random password the policy accepts (24 URL-safe characters, 144 bits)."""
    while True:
        password = secrets.token_urlsafe(18)
        if problem(password=password, username=username) is None:
            return password
