"""audit.service: details are cleaned of secrets and texts; the viewer's filters and paging."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import utcnow
from people.audit import service
from people.auth import service as auth_service
from people.auth.models import Role


def test_details_never_keep_secrets_or_texts() -> None:
    cleaned = service.clean_detail(
        {
            "username": "ana@example.org",
            "password": "hunter2-hunter2",
            "new_password": "x",
            "csrf_token": "abc",
            "Authorization": "Bearer x",
            "text": "I lost my job",
            "nested": {"session_cookie": "c", "note": "private", "count": 3, "messages": 4},
            "items": [{"api_key": "k", "ok": True}],
            "long": "y" * 1000,
        }
    )
    assert cleaned == {
        "username": "ana@example.org",
        "nested": {"count": 3, "messages": 4},
        "items": [{"ok": True}],
        "long": "y" * service.MAX_STRING,
    }


async def test_record_snapshots_the_actor_and_filters_find_it(session: AsyncSession) -> None:
    tag = uuid.uuid4().hex[:8]
    user = await auth_service.create_user(
        session=session, username=f"auditor-{tag}@example.org", password="a long enough password",
        display_name="Auditor", role=Role.ADMIN,
    )  # fmt: skip
    start = utcnow()
    for n in range(5):
        await service.record(
            session=session, action=f"test{tag}.step", actor_id=user.id, target=("debtor", n), detail={"n": n}
        )
    await service.record(session=session, action=f"test{tag}.other", target=f"conversation:abc{tag}")

    events, total = await service.search(
        session=session, filters=service.Filters(actor=f"AUDITOR-{tag}", action=f"test{tag}.step"), limit=2
    )
    assert total == 5 and [e.detail for e in events] == [{"n": 4}, {"n": 3}]
    assert events[0].actor_username == user.username and events[0].actor_role == "admin"
    second, _ = await service.search(
        session=session, filters=service.Filters(actor=f"#{user.id}", action=f"test{tag}.step"), offset=4, limit=2
    )
    assert [e.detail for e in second] == [{"n": 0}]

    prefix, total = await service.search(session=session, filters=service.Filters(action=f"test{tag}."))
    assert total == 6 and prefix[0].target_type == "conversation" and prefix[0].target_id == f"abc{tag}"
    later, total = await service.search(
        session=session, filters=service.Filters(action=f"test{tag}.", since=start + timedelta(hours=1))
    )
    assert total == 0 and later == []
    _wildcard, total = await service.search(session=session, filters=service.Filters(actor="%", action=f"test{tag}."))
    assert total == 0  # LIKE wildcards in the filter are literal
    assert f"test{tag}.other" in await service.actions(session=session)
