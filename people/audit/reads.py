"""Staff reads of a conversation or a debtor are audited (who, which route, which id, when).

A route that returns conversation or debtor data to staff declares it with
`dependencies=[AUDITED_READ]`; the audit middleware (people/audit/middleware.py) then writes the row
before the response starts, and answers 503 instead of the data when the row cannot be written:
no personal data leaves without its audit entry. The route names what it showed with `note()`
(a list page: the ids on it). tests/audit/test_reads.py walks every staff GET route, so a new one
that reads personal data cannot forget this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Depends, Request

from core.deps import SessionDep
from people.auth.deps import StaffLoginDep

STATE_KEY = "audit_read"
SESSION_KEY = "audit_session"


async def _audited_read(request: Request, login: StaffLoginDep, session: SessionDep) -> None:
    """Runs after the login check (a refused request is audited as a refusal instead). The row is
    written in the request's own session (still open when the response starts): on SQLite that
    session already holds the single write lock, a second one would wait for it."""
    user = login[0]
    request.state.audit_read = {"id": user.id, "username": user.username, "role": user.role.value}
    request.state.audit_session = session


AUDITED_READ = Depends(_audited_read)


def note(request: Request, *, target: tuple[str, object] | None = None, **ids: Iterable[Any]) -> None:
    """What this read showed: a target (`("debtor", 5)`) and/or lists of ids (`debtors=[1, 2]`)."""
    audit: dict[str, Any] = {"detail": {name: sorted({str(v) for v in values}) for name, values in ids.items()}}
    if target is not None:
        audit["target"] = target
    request.state.audit = audit
