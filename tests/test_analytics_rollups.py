"""Roll-ups stay exact (analytics/rollups.py): a property test applies random sequences of writes
through every write path (the visit sync, amendments, single-row ORM edits and deletions, a bulk
import followed by rollups_apply, the rebuild command) and after each one compares every roll-up
table, row for row, with the aggregate recomputed here in Python from the raw Visit and Answer rows.

Visits land near midnight Asia/Riyadh and on both sides of a month's end, in two municipalities, by
two inspectors, on two categories and two checklists. Derandomized, few and small examples: quick
but real (each example rolls back, so examples do not pile up)."""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import CellPeriod, InspectorDay, ItemDay, RollupPending, VisitDay
from analytics.periods import Piece, cover, signed_cover
from analytics.rollups import QUARTER_RESOLUTIONS, RESOLUTIONS, WEEK_RESOLUTIONS, rollups_apply, rollups_flush
from inspections.models import Answer, Membership, Visit
from inspections.services.amendments import visit_amend
from inspections.services.inputs import AmendmentChangesIn
from inspections.services.visits import visit_sync
from tests.factories import CategoryFactory, make_user
from tests.visit_support import make_checklist, shop, visit_payload

RIYADH = ZoneInfo("Asia/Riyadh")
COMPLETED = {"compliant", "violations"}


def expected() -> dict[str, dict]:
    """Every roll-up recomputed from the raw rows, independently of analytics.rollups:
    {table: {key: [count, of which violating or failed]}}. Visits still pending (ROLLUPS_DEFERRED,
    not flushed yet) are left out: the guarantee is exact roll-ups of every other visit."""
    tables = {"visit_day": {}, "inspector_day": {}, "item_day": {}, "cells": {}}
    pending = set(RollupPending.objects.values_list("visit_id", flat=True))

    def add(table, key, flag):
        figures = tables[table].setdefault(key, [0, 0])
        figures[0] += 1
        figures[1] += int(flag)

    checklist_of = {}
    for visit in Visit.objects.select_related("checklist_version"):
        checklist = checklist_of[visit.pk] = visit.checklist_version.checklist_id
        if visit.outcome not in COMPLETED or visit.pk in pending:
            continue
        day = visit.finished_at.astimezone(RIYADH).date()
        municipality, category, flag = visit.municipality_id, visit.category_id, visit.has_violation
        add("visit_day", (day, municipality, category, checklist), flag)
        add("inspector_day", (day, municipality, visit.inspector_id, category, checklist), flag)
        for resolution in RESOLUTIONS:
            cell = getattr(visit, f"h3_r{resolution}")
            add("cells", (resolution, "d", day, municipality, cell), flag)
            add("cells", (resolution, "m", day.replace(day=1), municipality, cell), flag)
            if resolution in QUARTER_RESOLUTIONS:
                quarter = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
                add("cells", (resolution, "q", quarter, municipality, cell), flag)
            if resolution in WEEK_RESOLUTIONS:
                monday = day - timedelta(days=day.isoweekday() - 1)
                add("cells", (resolution, "w", monday, municipality, cell), flag)
    for answer in Answer.objects.select_related("visit"):
        visit = answer.visit
        if visit.outcome not in COMPLETED or visit.pk in pending or answer.value is None or answer.value == "na":
            continue
        day = visit.finished_at.astimezone(RIYADH).date()
        add(
            "item_day",
            (day, visit.municipality_id, answer.item_code, visit.category_id, checklist_of[visit.pk]),
            answer.failed,
        )
    return tables


def stored() -> dict[str, dict]:
    def table(model, keys, figures):
        return {tuple(row[:-2]): list(row[-2:]) for row in model.objects.values_list(*keys, *figures)}

    return {
        "visit_day": table(
            VisitDay, ("day", "municipality_id", "category_id", "checklist_id"), ("visits", "violating")
        ),
        "inspector_day": table(
            InspectorDay,
            ("day", "municipality_id", "inspector_id", "category_id", "checklist_id"),
            ("visits", "violating"),
        ),
        "item_day": table(
            ItemDay, ("day", "municipality_id", "item_code", "category_id", "checklist_id"), ("answers", "failed")
        ),
        "cells": table(
            CellPeriod, ("resolution", "grain", "period", "municipality_id", "cell"), ("visits", "violating")
        ),
    }


def assert_exact(step) -> None:
    """Row for row: same keys (no row left at zero), same figures."""
    want, have = expected(), stored()
    for name in want:
        assert have[name] == want[name], (step, name)


@pytest.fixture
def world(dammam, khobar, inspector, inspector_khobar, supervisor, supervisor_khobar):
    version_a, items_a = make_checklist()
    version_b, _items_b = make_checklist()
    bakery = CategoryFactory(code="bakery-rollups")
    shops = [shop(dammam), shop(khobar), shop(dammam), shop(khobar)]
    for index in (2, 3):
        shops[index].category = bakery
        shops[index].save()
    # A second inspector in Dammam (two inspectors' rows in one municipality).
    second = make_user(Membership.Role.INSPECTOR, dammam, username="inspector-two")
    return {
        "versions": [version_a, version_b],
        "shops": shops,
        "inspectors": {dammam.id: [inspector, second], khobar.id: [inspector_khobar]},
        "supervisors": {dammam.id: supervisor, khobar.id: supervisor_khobar},
    }


def _finished_at(days_ago: int, minutes: int) -> datetime:
    """`minutes` around the Riyadh midnight that starts the day `days_ago` days before today."""
    today = timezone.now().astimezone(RIYADH).date()
    midnight = datetime.combine(today - timedelta(days=days_ago), time.min, tzinfo=RIYADH)
    return midnight + timedelta(minutes=minutes)


visit_spec = st.tuples(
    st.integers(0, 3),  # shop
    st.integers(0, 1),  # inspector of that shop's municipality
    st.integers(0, 1),  # checklist version
    st.sampled_from([1, 2, 3, 29, 30, 31, 32, 58, 59]),  # days ago: around today's and earlier months' ends
    st.integers(-90, 90),  # minutes from that Riyadh midnight
    st.sampled_from(["compliant", "violating", "na", "closed"]),
)
operation = st.one_of(
    st.tuples(st.just("sync"), st.lists(visit_spec, min_size=1, max_size=4)),
    st.tuples(st.just("import"), st.lists(visit_spec, min_size=1, max_size=3)),
    st.tuples(st.just("amend"), st.integers(0, 50), st.sampled_from(["compliant", "violations", "closed"])),
    st.tuples(st.just("edit_visit"), st.integers(0, 50), st.sampled_from(["compliant", "violations", "closed"])),
    st.tuples(st.just("edit_answer"), st.integers(0, 500), st.sampled_from(["yes", "no", "na"])),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("rebuild")),
)
# With ROLLUPS_DEFERRED the sync only lists its visits; the flush adds them (and any path may meet a
# visit still pending: amendments, admin edits, deletions settle it first).
deferred_operation = st.one_of(operation, st.tuples(st.just("flush")))


def _payload(world, spec):
    shop_index, inspector_index, version_index, days_ago, minutes, kind = spec
    establishment = world["shops"][shop_index]
    inspectors = world["inspectors"][establishment.municipality_id]
    inspector = inspectors[inspector_index % len(inspectors)]
    answers = {"violating": {"MASKS": "no"}, "na": {"SANITISER": "na"}}.get(kind, {})
    payload = visit_payload(
        establishment,
        world["versions"][version_index],
        finished_at=_finished_at(days_ago, minutes),
        outcome="closed" if kind == "closed" else None,
        **answers,
    )
    return inspector, payload


def _apply(world, op) -> None:
    kind = op[0]
    visits = list(Visit.objects.order_by("id"))
    if kind == "sync":
        for spec in op[1]:
            inspector, payload = _payload(world, spec)
            results = visit_sync(inspector=inspector, visits=[payload])
            assert results[0].status == "created", results[0]
    elif kind == "import":
        # A bulk path that bypasses Model.save(): raw rows first, then one rollups_apply for them all.
        imported = []
        for spec in op[1]:
            inspector, payload = _payload(world, spec)
            establishment = world["shops"][spec[0]]
            finished = datetime.fromisoformat(payload["finished_at"])
            violating = any(a["value"] == "no" for a in payload["answers"])
            imported.append(
                Visit(
                    client_id=uuid.uuid4(),
                    establishment=establishment,
                    inspector=inspector,
                    checklist_version=world["versions"][spec[2]],
                    municipality_id=establishment.municipality_id,
                    category_id=establishment.category_id,
                    started_at=finished - timedelta(minutes=10),
                    finished_at=finished,
                    received_at=timezone.now(),
                    outcome=payload["outcome"]
                    if payload["outcome"] == "closed"
                    else ("violations" if violating else "compliant"),
                    geo_status=Visit.GeoStatus.NO_FIX,
                    has_violation=violating,
                    violation_count=int(violating),
                    **{f"h3_r{r}": getattr(establishment, f"h3_r{r}") for r in RESOLUTIONS},
                )
            )
        created = Visit.objects.bulk_create(imported)
        items = {item.code: item for version in world["versions"] for item in version.items.all()}
        Answer.objects.bulk_create(
            Answer(
                visit=visit,
                item=items[a["item_code"]],
                item_code=a["item_code"],
                value=a["value"],
                failed=a["value"] == "no",
            )
            for visit, spec in zip(created, op[1], strict=True)
            for a in _payload(world, spec)[1]["answers"]
            if a["item_code"] in ("MASKS", "SANITISER")
        )
        rollups_apply(visit_ids=[visit.pk for visit in created])
    elif kind == "amend" and visits:
        visit = visits[op[1] % len(visits)]
        if visit.outcome != op[2]:
            visit_amend(
                author=world["supervisors"][visit.municipality_id],
                visit=visit,
                reason="property test",
                changes=AmendmentChangesIn(outcome=op[2]),
            )
    elif kind == "edit_visit" and visits:
        # A correction written straight to the row (the admin): subtract the old, add the new.
        visit = visits[op[1] % len(visits)]
        visit.outcome = op[2]
        visit.has_violation = op[2] == "violations"
        visit.finished_at -= timedelta(hours=3)  # may cross a Riyadh midnight or a month's end
        visit.save()
    elif kind == "edit_answer":
        answers = list(Answer.objects.order_by("id"))
        if answers:
            answer = answers[op[1] % len(answers)]
            answer.value = op[2]
            answer.failed = op[2] == "no"
            answer.save()
    elif kind == "delete" and visits:
        removable = [v for v in visits if not v.findings.exists()]
        if removable:
            removable[op[1] % len(removable)].delete()
    elif kind == "rebuild":
        call_command("rollups_rebuild", verbosity=0)
    elif kind == "flush":
        rollups_flush()


@pytest.mark.django_db
# Visits up to 59 days and 90 minutes before a Riyadh midnight: under the default 60-day age limit the
# oldest were refused when the test ran after 22:30 Riyadh (the limit counts from now, not midnight).
@override_settings(VISIT_MAX_AGE=timedelta(days=90))
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=6))
def test_every_write_path_keeps_every_rollup_equal_to_the_raw_aggregate(world, operations):
    with transaction.atomic():
        for step, op in enumerate(operations):
            _apply(world, op)
            assert_exact((step, op))
        transaction.set_rollback(True)


@pytest.mark.django_db
@override_settings(VISIT_MAX_AGE=timedelta(days=90), ROLLUPS_DEFERRED=True)
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(deferred_operation, min_size=2, max_size=8))
def test_deferred_rollups_are_exact_but_for_the_pending_visits_and_exact_after_a_flush(world, operations):
    """ROLLUPS_DEFERRED: after every step the roll-ups equal the raw aggregate of every visit not
    pending; a synced visit is pending until a flush (or a change to it) adds it; after the last
    flush nothing is pending and the roll-ups equal the raw aggregate of every visit."""
    with transaction.atomic():
        for step, op in enumerate(operations):
            before = set(RollupPending.objects.values_list("visit_id", flat=True))
            _apply(world, op)
            if op[0] == "sync":
                newest = set(Visit.objects.order_by("-id").values_list("id", flat=True)[: len(op[1])])
                assert newest <= set(RollupPending.objects.values_list("visit_id", flat=True)) | before, step
            assert_exact((step, op))
        waiting = RollupPending.objects.count()
        assert rollups_flush() == waiting
        assert not RollupPending.objects.exists()
        assert_exact("after the last flush")
        transaction.set_rollback(True)


@pytest.mark.django_db
@override_settings(ROLLUPS_DEFERRED=True)
def test_deferred_sync_lists_its_visits_and_the_flush_adds_them(world):
    """The sync writes no roll-up row (leadership's figures wait for the flush); the flush adds the
    visits, reports how many, and a second flush has nothing to do."""
    establishment = world["shops"][0]
    inspector = world["inspectors"][establishment.municipality_id][0]
    payloads = [
        visit_payload(establishment, world["versions"][0], finished_at=_finished_at(1, 600 + i), MASKS="no")
        for i in range(3)
    ]
    results = visit_sync(inspector=inspector, visits=payloads)
    assert [r.status for r in results] == ["created"] * 3
    assert set(RollupPending.objects.values_list("visit_id", flat=True)) == {r.visit_id for r in results}
    assert not VisitDay.objects.exists() and not ItemDay.objects.exists()
    assert rollups_flush() == 3
    assert sum(VisitDay.objects.values_list("violating", flat=True)) == 3
    assert not RollupPending.objects.exists()
    assert rollups_flush() == 0
    assert_exact("flushed")


@pytest.mark.django_db
@override_settings(ROLLUPS_DEFERRED=True)
@pytest.mark.parametrize(
    "change",
    [("edit_visit", 0, "closed"), ("edit_answer", 0, "yes"), ("delete", 0)],
    ids=lambda change: change[0],
)
def test_every_path_settles_a_pending_visit_before_changing_it(world, change):
    """A visit synced but not flushed is changed by an admin edit of the visit or of an answer, or
    deleted (an amendment is a record beside the visit and leaves its rows as they were): the change
    first adds the visit as it stood, then applies itself, so the roll-ups are exact at once and after
    the flush (none of it counted twice, none negative)."""
    establishment = world["shops"][0]
    inspector = world["inspectors"][establishment.municipality_id][0]
    payload = visit_payload(establishment, world["versions"][0], finished_at=_finished_at(2, 600), MASKS="no")
    assert visit_sync(inspector=inspector, visits=[payload])[0].status == "created"
    Visit.objects.get().findings.all().delete()  # a visit with findings is not deletable
    assert RollupPending.objects.count() == 1
    _apply(world, change)
    assert not RollupPending.objects.exists()
    assert_exact(change)
    rollups_flush()
    assert_exact((change, "flushed"))
    assert all(row.visits >= 0 and row.violating >= 0 for row in VisitDay.objects.all())


@pytest.mark.django_db
def test_a_visit_near_midnight_counts_on_its_riyadh_day_and_month(world):
    # 23:50 on the last day of a month in Riyadh is 20:50 UTC the same day; 00:10 the next day is 21:10
    # UTC of the previous UTC day: each belongs to its own Riyadh day and month.
    today = timezone.now().astimezone(RIYADH).date()
    first_of_month = today.replace(day=1)
    before = datetime.combine(first_of_month, time.min, tzinfo=RIYADH) - timedelta(minutes=10)
    after = datetime.combine(first_of_month, time.min, tzinfo=RIYADH) + timedelta(minutes=10)
    establishment = world["shops"][0]
    inspector = world["inspectors"][establishment.municipality_id][0]
    for when in (before, after):
        payload = visit_payload(establishment, world["versions"][0], finished_at=when, MASKS="no")
        assert visit_sync(inspector=inspector, visits=[payload])[0].status == "created"
    days = dict(VisitDay.objects.values_list("day", "violating"))
    assert days == {before.date(): 1, after.date(): 1}
    months = set(CellPeriod.objects.filter(grain="m", resolution=9).values_list("period", flat=True))
    assert months == {before.date().replace(day=1), first_of_month}
    assert_exact("midnight")


@pytest.mark.django_db
def test_a_visit_counts_in_the_iso_week_of_its_riyadh_day(world):
    # Nine consecutive days hold a Sunday and the Monday after it whatever today is; 00:10 Riyadh on a
    # Monday is 21:10 UTC on the Sunday before: the visit belongs to the Monday's week.
    establishment = world["shops"][0]
    inspector = world["inspectors"][establishment.municipality_id][0]
    payloads = [
        visit_payload(establishment, world["versions"][0], finished_at=_finished_at(days_ago, 10), MASKS="no")
        for days_ago in range(1, 10)
    ]
    assert [r.status for r in visit_sync(inspector=inspector, visits=payloads)] == ["created"] * 9
    mondays = set(CellPeriod.objects.filter(grain="w", resolution=9).values_list("period", flat=True))
    days = {_finished_at(days_ago, 10).date() for days_ago in range(1, 10)}
    assert mondays == {day - timedelta(days=day.weekday()) for day in days}
    assert all(monday.weekday() == 0 for monday in mondays) and len(mondays) >= 2
    assert not CellPeriod.objects.filter(grain="w", resolution__in=set(RESOLUTIONS) - set(WEEK_RESOLUTIONS))
    assert_exact("weeks")


@pytest.mark.django_db
def test_rebuild_restores_rollups_after_a_write_that_bypassed_them(world, capsys):
    establishment = world["shops"][1]
    inspector = world["inspectors"][establishment.municipality_id][0]
    payload = visit_payload(establishment, world["versions"][0], MASKS="no")
    assert visit_sync(inspector=inspector, visits=[payload])[0].status == "created"
    Visit.objects.update(outcome="compliant", has_violation=False)  # queryset.update() sends no signal
    VisitDay.objects.update(visits=99)
    call_command("rollups_rebuild")
    assert "rebuilt" in capsys.readouterr().out
    assert list(VisitDay.objects.values_list("visits", "violating")) == [(1, 0)]
    assert_exact("rebuild")


@pytest.fixture
def history(world):
    """60 visits over 200 days (several month and quarter ends), stored through the ORM (the signals path)."""
    import random

    from tests.factories import VisitFactory

    rng = random.Random(16)
    for _ in range(60):
        establishment = world["shops"][rng.randrange(4)]
        VisitFactory(
            establishment=establishment,
            inspector=world["inspectors"][establishment.municipality_id][0],
            checklist_version=world["versions"][rng.randrange(2)],
            outcome=rng.choice(["compliant", "violations", "violations", "closed"]),
            finished_at=_finished_at(rng.randrange(200), rng.randrange(-120, 120)),
        )
    return world


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.one_of(st.none(), st.integers(-2, 205)),
    length=st.one_of(st.none(), st.integers(0, 205)),
    resolution=st.sampled_from(RESOLUTIONS),
    municipality=st.sampled_from([None, 0, 1]),
)
def test_rollup_reads_equal_the_raw_group_by_for_any_range(history, leader, start, length, resolution, municipality):
    """Rates and the heatmap from roll-ups (whole months from month rows, edge days from day rows)
    equal the same figures grouped over the raw visits, for any inclusive range of Riyadh days."""
    from django.db.models import Count, Q

    from analytics import selectors

    today = timezone.now().astimezone(RIYADH).date()
    date_from = None if start is None else today - timedelta(days=start)
    date_to = None if length is None else (date_from or today - timedelta(days=205)) + timedelta(days=length)
    municipality_id = None if municipality is None else history["shops"][municipality].municipality_id
    filters = selectors.AnalyticsFilters(date_from=date_from, date_to=date_to, municipality_id=municipality_id)
    raw = selectors.completed_visits(user=leader, filters=filters)
    column = f"h3_r{resolution}"
    want = {
        (cell, visits, violating)
        for cell, visits, violating in raw.values_list(column)
        .annotate(visits=Count("*"), violating=Count("id", filter=Q(has_violation=True)))
        .order_by()
    }
    have = {
        (int(row["cell"], 16), row["visits"], row["violating_visits"])
        for row in selectors.heatmap_cells(user=leader, filters=filters, resolution=resolution)
    }
    assert have == want
    by_municipality = {
        str(row["municipality_id"]): (row["visits"], row["violating"])
        for row in raw.values("municipality_id")
        .annotate(visits=Count("*"), violating=Count("id", filter=Q(has_violation=True)))
        .order_by()
    }
    rates = selectors.violation_rates(user=leader, filters=filters, group_by="municipality")
    assert {row.key: (row.visits, row.violating_visits) for row in rates} == by_municipality
    months = sum(row.visits for row in selectors.violation_rates(user=leader, filters=filters, group_by="month"))
    hijri = sum(row.visits for row in selectors.violation_rates(user=leader, filters=filters, group_by="hijri_month"))
    assert months == hijri == raw.count()


@pytest.mark.django_db
def test_an_answer_edit_drops_only_its_own_emptied_rows_through_its_day(world):
    """Editing one answer to N/A empties its item row, which is deleted; the DELETE is bounded by that
    visit's day (never a scan of the national item table), and every other row stays."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    establishment = world["shops"][0]
    inspector = world["inspectors"][establishment.municipality_id][0]
    for days_ago in (1, 40):
        payload = visit_payload(
            establishment, world["versions"][0], finished_at=_finished_at(days_ago, 600), MASKS="no"
        )
        assert visit_sync(inspector=inspector, visits=[payload])[0].status == "created"
    answer = Answer.objects.filter(item_code="MASKS").order_by("visit__finished_at").first()
    before = ItemDay.objects.count()
    answer.value, answer.failed = "na", False
    with CaptureQueriesContext(connection) as queries:
        answer.save()
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    # The settle of a pending visit (ROLLUPS_DEFERRED) deletes by primary key; the roll-ups by the day.
    pending = [sql for sql in deletes if "analytics_rolluppending" in sql]
    deletes = [sql for sql in deletes if sql not in pending]
    assert all("WHERE visit_id IN" in sql for sql in pending), pending
    assert deletes and all("day IN" in sql and "analytics_itemday" in sql for sql in deletes), deletes
    assert ItemDay.objects.count() == before - 1
    assert not ItemDay.objects.filter(item_code="MASKS", day=answer.visit.finished_at.astimezone(RIYADH).date())
    assert_exact("answer to N/A")


def D(text: str):  # noqa: N802 - a date literal
    return datetime.strptime(text, "%Y-%m-%d").date()


@pytest.mark.parametrize(
    ("date_from", "date_to", "grains", "pieces"),
    [
        # A year from a Monday mid-March: two weeks and a day before April's quarter, three quarters,
        # January and February, then March 1 (a Sunday), two weeks, and March 16 (a Monday).
        (
            "2025-03-17",
            "2026-03-16",
            "qmw",
            [
                ("w", "2025-03-17", "2025-03-24"),
                ("d", "2025-03-31", "2025-03-31"),
                ("q", "2025-04-01", "2025-10-01"),
                ("m", "2026-01-01", "2026-02-01"),
                ("d", "2026-03-01", "2026-03-01"),
                ("w", "2026-03-02", "2026-03-09"),
                ("d", "2026-03-16", "2026-03-16"),
            ],
        ),
        # The same year at a resolution without quarters or weeks: edge days and months.
        (
            "2025-03-17",
            "2026-03-16",
            "m",
            [("d", "2025-03-17", "2025-03-31"), ("m", "2025-04-01", "2026-02-01"), ("d", "2026-03-01", "2026-03-16")],
        ),
        # Shorter than a week, across a week's and a month's end (Saturday to Wednesday): days only.
        ("2026-11-28", "2026-12-02", "qmw", [("d", "2026-11-28", "2026-12-02")]),
        # Across a year's end: the week of Monday 29 December holds days of both years.
        (
            "2025-12-24",
            "2026-01-14",
            "qmw",
            [("d", "2025-12-24", "2025-12-28"), ("w", "2025-12-29", "2026-01-05"), ("d", "2026-01-12", "2026-01-14")],
        ),
        ("2026-11-23", "2026-11-29", "qmw", [("w", "2026-11-23", "2026-11-23")]),  # Monday to Sunday
        ("2026-01-01", "2026-12-31", "qmw", [("q", "2026-01-01", "2026-10-01")]),
        ("2026-05-05", "2026-05-05", "qmw", [("d", "2026-05-05", "2026-05-05")]),
        ("2026-05-05", "2026-05-04", "qmw", []),
    ],
)
def test_a_range_is_covered_by_its_coarsest_whole_periods(date_from, date_to, grains, pieces):
    assert cover(D(date_from), D(date_to), grains=grains) == [Piece(g, D(a), D(b)) for g, a, b in pieces]


def _days_of(piece: Piece) -> list:
    """The days a piece stands for: those whose period (computed here, as in `expected`) is in it."""
    period_of = {
        "d": lambda day: day,
        "w": lambda day: day - timedelta(days=day.isoweekday() - 1),
        "m": lambda day: day.replace(day=1),
        "q": lambda day: day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1),
    }[piece.grain]
    day, days = piece.first, []
    while day <= piece.last + timedelta(days=92):
        if piece.first <= period_of(day) <= piece.last:
            days.append(day)
        day += timedelta(days=1)
    return days


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    start=st.dates(min_value=D("2024-01-01"), max_value=D("2027-12-31")),
    length=st.integers(-1, 800),
    grains=st.sampled_from(["qmw", "mw", "m"]),
)
def test_the_pieces_hold_every_day_of_the_range_once(start, length, grains):
    pieces = cover(start, start + timedelta(days=length), grains=grains)
    days = [day for piece in pieces for day in _days_of(piece)]
    assert days == [start + timedelta(days=i) for i in range(length + 1)]
    assert all(piece.first.weekday() == 0 for piece in pieces if piece.grain == "w")


# The rows a period of each grain holds, in day rows, at r9 with 10M national visits (the same cells
# come back every day: a month holds little more than a day) and where no cell is seen twice.
SATURATED = {"d": 1.0, "w": 1.33, "m": 1.34, "q": 1.34}
SPARSE = {"d": 1.0, "w": 7.0, "m": 30.0, "q": 91.0}


@pytest.mark.parametrize(
    ("date_from", "date_to", "rows", "pieces"),
    [
        # The last 365 days on 1 December: December 2025 whole less its 1st (one month row and one day
        # row, not three weeks and nine days), three quarters, October and November, then 1 December.
        (
            "2025-12-02",
            "2026-12-01",
            SATURATED,
            [
                ("m", "2025-12-01", "2025-12-01", 1),
                ("d", "2025-12-01", "2025-12-01", -1),
                ("q", "2026-01-01", "2026-07-01", 1),
                ("m", "2026-10-01", "2026-11-01", 1),
                ("d", "2026-12-01", "2026-12-01", 1),
            ],
        ),
        # The same year where no cell comes back: a month costs 30 days, three weeks and nine days 30.
        (
            "2025-12-02",
            "2026-12-01",
            SPARSE,
            [
                ("d", "2025-12-02", "2025-12-07", 1),
                ("w", "2025-12-08", "2025-12-22", 1),
                ("d", "2025-12-29", "2025-12-31", 1),
                ("q", "2026-01-01", "2026-07-01", 1),
                ("m", "2026-10-01", "2026-11-01", 1),
                ("d", "2026-12-01", "2026-12-01", 1),
            ],
        ),
        # Mid-month to mid-month, saturated: December whole, less its first two weeks and the 15th;
        # November's first half is read as it is (a day and two weeks beat the month and its rest).
        (
            "2025-12-16",
            "2026-11-15",
            SATURATED,
            [
                ("m", "2025-12-01", "2025-12-01", 1),
                ("w", "2025-12-01", "2025-12-08", -1),
                ("d", "2025-12-15", "2025-12-15", -1),
                ("q", "2026-01-01", "2026-07-01", 1),
                ("m", "2026-10-01", "2026-10-01", 1),
                ("d", "2026-11-01", "2026-11-01", 1),
                ("w", "2026-11-02", "2026-11-09", 1),
            ],
        ),
        # Both edge months cut by a day: both whole, less those days.
        (
            "2026-01-02",
            "2026-02-27",
            SATURATED,
            [
                ("m", "2026-01-01", "2026-01-01", 1),
                ("d", "2026-01-01", "2026-01-01", -1),
                ("m", "2026-02-01", "2026-02-01", 1),
                ("d", "2026-02-28", "2026-02-28", -1),
            ],
        ),
        # Within one month, cut at both ends, saturated: March less its first two and last two days.
        (
            "2026-03-03",
            "2026-03-29",
            SATURATED,
            [
                ("m", "2026-03-01", "2026-03-01", 1),
                ("d", "2026-03-01", "2026-03-02", -1),
                ("d", "2026-03-30", "2026-03-31", -1),
            ],
        ),
        # The same where no cell comes back: days and weeks inside (28 day rows against 34).
        (
            "2026-03-03",
            "2026-03-29",
            SPARSE,
            [("d", "2026-03-03", "2026-03-08", 1), ("w", "2026-03-09", "2026-03-23", 1)],
        ),
        # Three whole weeks inside January read less than January less ten days, even saturated.
        ("2026-01-05", "2026-01-25", SATURATED, [("w", "2026-01-05", "2026-01-19", 1)]),
        ("2026-01-01", "2026-12-31", SATURATED, [("q", "2026-01-01", "2026-10-01", 1)]),
        ("2026-05-05", "2026-05-04", SATURATED, []),
    ],
)
def test_a_month_cut_by_an_edge_is_read_whole_less_the_days_outside_when_that_reads_less(
    date_from, date_to, rows, pieces
):
    want = [(Piece(g, D(a), D(b)), sign) for g, a, b, sign in pieces]
    assert signed_cover(D(date_from), D(date_to), grains="qmw", rows=rows) == want


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    start=st.dates(min_value=D("2024-01-01"), max_value=D("2027-12-31")),
    length=st.integers(-1, 800),
    grains=st.sampled_from(["qmw", "mw", "m", ""]),
    rows=st.sampled_from([SATURATED, SPARSE]),
)
def test_the_signed_pieces_count_every_day_of_the_range_once_and_no_other(start, length, grains, rows):
    from collections import Counter

    counts = Counter()
    for piece, sign in signed_cover(start, start + timedelta(days=length), grains=grains, rows=rows):
        for day in _days_of(piece):
            counts[day] += sign
    assert {day: n for day, n in counts.items() if n} == {start + timedelta(days=i): 1 for i in range(length + 1)}


def _raw_cells(leader, filters, resolution):
    from django.db.models import Count, Q

    from analytics import selectors

    return {
        (cell, visits, violating)
        for cell, visits, violating in selectors.completed_visits(user=leader, filters=filters)
        .values_list(f"h3_r{resolution}")
        .annotate(visits=Count("*"), violating=Count("id", filter=Q(has_violation=True)))
        .order_by()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("resolution", [7, 9])
def test_the_heatmap_read_as_months_less_their_outside_days_equals_the_raw_group_by(
    history, leader, resolution, monkeypatch
):
    """Where a month holds little more than a day (SATURATED: every edge month is read whole less its
    days outside the range), the heatmap still equals the raw GROUP BY, including cells seen only on
    the subtracted days (their sums are 0: not listed)."""
    from analytics import selectors

    monkeypatch.setattr(selectors, "_cell_grain_rows", lambda alias, resolution, reference: SATURATED)
    from analytics.periods import add_months

    today = timezone.now().astimezone(RIYADH).date()
    day = timedelta(days=1)
    ranges = [
        (add_months(today, -6) + day, add_months(today, -1) - 2 * day),  # both edges cut by a day
        (add_months(today, -5) + 2 * day, add_months(today, -4) - 3 * day),  # one month, cut at both ends
        (add_months(today, -4) + 10 * day, add_months(today, -2) + 20 * day),
        (add_months(today, -3) + day, today),
        (today - 190 * day, today - 3 * day),
        (today - 33 * day, today - 31 * day),
    ]
    subtracted = 0
    for date_from, date_to in ranges:
        filters = selectors.AnalyticsFilters(date_from=date_from, date_to=date_to)
        _added, minus = selectors._cell_periods(
            filters.date_from, filters.date_to, resolution=resolution, alias="default"
        )
        subtracted += minus is not None
        have = {
            (int(row["cell"], 16), row["visits"], row["violating_visits"])
            for row in selectors.heatmap_cells(user=leader, filters=filters, resolution=resolution)
        }
        assert have == _raw_cells(leader, filters, resolution), (date_from, date_to)
    assert subtracted >= 3  # the ranges do exercise the subtraction


@pytest.mark.django_db
def test_the_rows_a_period_holds_are_counted_over_last_month_and_cached(world, django_assert_num_queries):
    """Three visits to one shop in the week around the 15th of last month and one to another shop on
    the 1st: 3/7 day rows a day, one week row (7/3 days' worth), two month rows (14/3); no quarter
    rows in the quarter before: the default. The second call reads nothing."""
    from analytics import selectors
    from analytics.periods import ROWS_READ, add_months, week_of
    from tests.factories import VisitFactory

    today = timezone.localdate()
    month = add_months(today, -1)
    week = week_of(month.replace(day=15))
    noon = time(12, 0)
    visits = [(0, week), (0, week + timedelta(days=1)), (0, week + timedelta(days=2)), (1, month)]
    for shop_index, day in visits:
        establishment = world["shops"][shop_index]
        VisitFactory(
            establishment=establishment,
            inspector=world["inspectors"][establishment.municipality_id][0],
            checklist_version=world["versions"][0],
            outcome="compliant",
            finished_at=datetime.combine(day, noon, tzinfo=RIYADH),
        )
    rows = selectors._cell_grain_rows("default", 9, today)
    assert rows == pytest.approx({"d": 1.0, "w": 7 / 3, "m": 14 / 3, "q": ROWS_READ["q"]})
    with django_assert_num_queries(0):
        assert selectors._cell_grain_rows("default", 9, today) == rows
    assert selectors._cell_grain_rows("default", 9, add_months(today, -6)) == ROWS_READ  # no visits then


@pytest.mark.django_db
def test_the_week_migration_fills_the_week_rows_from_the_day_rows(history):
    """analytics/migrations/0008 sums the stored day rows into week rows: the same rows the writers keep."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    weeks = importlib.import_module("analytics.migrations.0008_cellperiod_weeks")
    assert CellPeriod.objects.filter(grain="w").exists()
    weeks.drop(None, SimpleNamespace(connection=connection))
    assert not CellPeriod.objects.filter(grain="w").exists()
    weeks.fill(None, SimpleNamespace(connection=connection))
    assert_exact("weeks from days")


@pytest.mark.django_db
def test_the_cell_read_runs_without_jit_and_puts_it_back(history, leader):
    """PostgreSQL: the heatmap's roll-up read runs with JIT, plain index scans and parallel workers
    off (the planner's misjudgements at 10M visits) and the transaction's settings are as before
    afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import selectors

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    names = ("jit", "enable_indexscan", "max_parallel_workers_per_gather")
    current = "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)
    today = timezone.now().astimezone(RIYADH).date()
    filters = selectors.AnalyticsFilters(date_from=today - timedelta(days=120), date_to=today)
    with connection.cursor() as cursor:
        cursor.execute(current)
        before = cursor.fetchone()
    assert before[2] != "0"  # the default: the read's own setting is visible
    with CaptureQueriesContext(connection) as queries:
        assert selectors.heatmap_cells(user=leader, filters=filters, resolution=9)
    statements = [query["sql"] for query in queries.captured_queries]
    read = next(i for i, sql in enumerate(statements) if "analytics_cellperiod" in sql and "SUM(" in sql)
    for name, value in (("jit", "off"), ("enable_indexscan", "off"), ("max_parallel_workers_per_gather", "0")):
        assert f"'{name}', '{value}', true" in statements[read - 1]
        assert f"'{name}'" in statements[read + 1]
    with connection.cursor() as cursor:
        cursor.execute(current)
        assert cursor.fetchone() == before
