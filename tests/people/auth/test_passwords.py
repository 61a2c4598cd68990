"""Staff password policy: length, not the username, not a common password; the seeded admin's and
generated passwords comply; the API answers with clear codes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.manage import DEMO_ADMIN, seed_admin
from people.auth import passwords, service


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("x" * 11, "ann@example.org", passwords.WEAK),
        ("x" * 1025, "ann@example.org", passwords.WEAK),
        ("my name is ann@example.org", "ann@example.org", passwords.CONTAINS_USERNAME),
        ("Ann-Ann-Ann-2024", "ann@example.org", passwords.CONTAINS_USERNAME),
        ("password1234", "ann@example.org", passwords.TOO_COMMON),
        ("Password2024!", "bo@example.org", passwords.TOO_COMMON),
        ("!!Qwertyuiop", "bo@example.org", passwords.TOO_COMMON),
        ("123456789012", "bo@example.org", passwords.TOO_COMMON),
        ("Lösenord12345", "bo@example.org", passwords.TOO_COMMON),
        ("correct horse battery", "ann@example.org", None),
        ("a long enough password", "admin@example.org", None),
        ("bo bo bo bo bo bo", "bo@example.org", None),  # "bo" is too short a name part to refuse on
    ],
)
def test_policy(password: str, username: str, problem: str | None) -> None:
    assert passwords.problem(password=password, username=username) == problem


def test_the_common_list_is_loaded_and_lower_case() -> None:
    common = passwords.common_passwords()
    assert len(common) > 100 and "password" in common and all(word == word.lower() for word in common)


def test_generated_passwords_comply() -> None:
    generated = {passwords.generate(username=DEMO_ADMIN) for _ in range(50)}
    assert len(generated) == 50
    assert all(passwords.problem(password=p, username=DEMO_ADMIN) is None and len(p) >= 24 for p in generated)


async def test_the_seeded_admin_password_complies(session: AsyncSession) -> None:
    password = await seed_admin(session=session)
    assert password is not None and passwords.problem(password=password, username=DEMO_ADMIN) is None


@pytest.mark.parametrize(
    ("password", "code"),
    [("welcome2025!", "password_too_common"), ("carla@example.org!!", "password_contains_username")],
)
async def test_create_user_refuses_with_a_clear_code(session: AsyncSession, password: str, code: str) -> None:
    with pytest.raises(service.AuthError) as refused:
        await service.create_user(session=session, username="carla@example.org", password=password, display_name="C")
    assert (refused.value.code, refused.value.status) == (code, 422)
