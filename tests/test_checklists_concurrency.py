"""Checklist authoring under concurrency (found by schemathesis in CI: a 500 'deadlock detected').
Adding, changing and removing items locked the version and, through its join, the checklist, in
whatever order the join produced them; publishing and drafting lock the checklist first, then the
version. Now item edits lock the version only, so every path takes checklist before version. Needs
PostgreSQL's row locks: skipped on the embedded SQLite default."""

import functools

import pytest
from django.conf import settings
from django.db import OperationalError

from inspections.models import ChecklistVersion
from inspections.services.checklists import checklist_item_add, checklist_version_draft, checklist_version_publish
from tests.concurrency_support import run_at_once
from tests.rounds_helpers import published_checklist

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def _deadlocks(actions) -> list[Exception]:
    """The database errors the racing actions met (an item arriving after the publish is refused with
    an ApplicationError: the version is no longer a draft)."""
    return [outcome for outcome in run_at_once(actions) if isinstance(outcome, OperationalError)]


def test_items_added_while_the_draft_is_published_never_deadlock():
    for round_number in range(8):
        draft = checklist_version_draft(actor=None, checklist=published_checklist())
        actions = [
            functools.partial(
                checklist_item_add, actor=None, version=draft, code=f"R{round_number}N{n}", text_ar="بند", text_en="x"
            )
            for n in range(4)
        ]
        actions.append(functools.partial(checklist_version_publish, actor=None, version=draft))
        assert _deadlocks(actions) == []  # before the fix: 'deadlock detected' in the first rounds
        assert ChecklistVersion.objects.get(pk=draft.pk).status == ChecklistVersion.Status.PUBLISHED
