"""Row locks take the row they mean. `select_for_update()` with `select_related(...)` locks every joined
row too (PostgreSQL's FOR UPDATE without OF): the checklist, municipality, inspector or visit behind
the row. That blocked every insert referencing them (foreign keys take KEY SHARE) and twice met
another path in a deadlock (checklist authoring against publishing; round commands against the
visit sync). A lock with joins names its tables: `select_for_update(of=("self", ...))`."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("inspections", "analytics", "notifications", "community", "enforcement", "backend")


def _chain(call: ast.Call) -> list[ast.Call]:
    """The calls of one method chain, outermost first: qs.a().b().c() -> [c, b, a]."""
    calls = []
    node = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        calls.append(node)
        node = node.func.value
    return calls


def unscoped_locks(source: str) -> list[int]:
    """Line numbers of select_for_update() calls without `of=` in a chain that also select_related()s."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        names = {call.func.attr: call for call in _chain(node)}  # inner calls repeat a chain: lines are a set
        lock = names.get("select_for_update")
        if lock is not None and "select_related" in names and not any(kw.arg == "of" for kw in lock.keywords):
            lines.append(lock.lineno)
    return sorted(set(lines))


def test_the_check_finds_a_lock_on_joined_rows():
    assert unscoped_locks("Round.objects.select_for_update().select_related('municipality').get(pk=1)") == [1]
    assert unscoped_locks("Round.objects.select_related('m').select_for_update().get(pk=1)") == [1]
    assert unscoped_locks("Round.objects.select_for_update(of=('self',)).select_related('m').get(pk=1)") == []
    assert unscoped_locks("Round.objects.select_for_update().get(pk=1)") == []  # no join: the row alone


def test_no_lock_in_the_apps_takes_joined_rows():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line in unscoped_locks(path.read_text())
    ]
    assert offenders == []
