"""No log call at INFO or above is handed what a debtor wrote or what we answered: a static check
over every module we run (the runtime check is test_pipeline_pii.py). Log ids, lengths, intents."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SKIP = {".venv", ".venv-rasa", "tests", "node_modules", "migrations"}
LOUD = {"info", "warning", "warn", "error", "exception", "critical"}
# Names and attributes that hold message bodies or replies in this codebase.
BODIES = {"text", "body", "clean", "reply", "replies", "rendered", "raw_text", "message_text"}


def log_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOUD:
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if "log" in name.lower():
                calls.append(node)
    return calls


def bodies_in(call: ast.Call) -> set[str]:
    found = set()
    for argument in [*call.args, *(k.value for k in call.keywords)]:
        for node in ast.walk(argument):
            if isinstance(node, ast.Name) and node.id in BODIES:
                found.add(node.id)
            elif isinstance(node, ast.Attribute) and node.attr in BODIES:
                found.add(node.attr)
    return found


def modules() -> list[Path]:
    folders = [p for p in ROOT.iterdir() if p.is_dir() and p.name not in SKIP and not p.name.startswith(".")]
    return sorted(path for folder in folders for path in folder.rglob("*.py"))


def test_no_log_call_at_info_or_above_carries_a_body() -> None:
    checked, offending = 0, []
    for path in modules():
        for call in log_calls(ast.parse(path.read_text(encoding="utf-8"))):
            checked += 1
            if names := bodies_in(call):
                offending.append(f"{path.relative_to(ROOT)}:{call.lineno} logs {sorted(names)}")
    assert checked > 20  # the scan sees the codebase's log calls
    assert not offending, "\n".join(offending)


def test_the_check_catches_a_body() -> None:
    tree = ast.parse(
        'log.info("inbound %s", message.text)\nlogger.warning("x", extra={"reply": reply})\nlog.debug(text)'
    )
    assert [bodies_in(call) for call in log_calls(tree)] == [{"text"}, {"reply"}]
