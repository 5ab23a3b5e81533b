"""Week planning at municipal scale: one municipality with 5,000 establishments and 10 inspectors,
a year and a half of inspection history (violations, open findings, new licences), then one call of
the real planner (`plan_week_draft`). Prints the share of due shops planned, the follow-ups planned
on time, the max/min ratio of the inspectors' loads, the route length against a same-run baseline
(the same shops visited in licence-number order, cut into rounds of the same sizes), and seconds.

    .venv/bin/python bench/planning.py            # a throwaway SQLite file
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/jawla_bench_planning .venv/bin/python bench/planning.py

Aims (issue 13): every due shop that fits the capacity is planned, loads within 1.2x, route km under
half the naive order, under 10 s.
"""

import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHOPS = int(os.environ.get("BENCH_SHOPS", 5000))
INSPECTORS = int(os.environ.get("BENCH_INSPECTORS", 10))
DAMMAM = (26.4207, 50.0888)


def setup_django() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url and url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='jawla-bench-planning-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build_world(rng: random.Random):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from inspections import models as m
    from inspections.domain.geo import h3_cells

    User = get_user_model()
    amanah = m.Municipality.objects.create(code="B-AMANAH", name_ar="أمانة", name_en="Amanah", kind="amanah")
    town = m.Municipality.objects.create(
        code="B-TOWN", name_ar="الدمام", name_en="Dammam", parent=amanah, centre_lat=DAMMAM[0], centre_lon=DAMMAM[1]
    )
    inspectors = []
    for index in range(INSPECTORS):
        user = User.objects.create(username=f"bench_inspector_{index}")
        membership = m.Membership.objects.create(user=user, role="inspector")
        membership.municipalities.add(town)
        inspectors.append(user)
    category = m.Category.objects.create(code="grocery", name_ar="بقالة", name_en="Grocery")
    checklist = m.Checklist.objects.create(code="bench", name_ar="قائمة", name_en="Checklist")
    version = m.ChecklistVersion.objects.create(
        checklist=checklist, number=1, status="published", published_at=timezone.now()
    )
    item = m.ChecklistItem.objects.create(
        version=version, code="CLEAN", text_ar="نظافة", text_en="Clean", severity="major"
    )
    shops = []
    for index in range(SHOPS):
        # A city of about 20 km x 20 km, denser in the centre.
        lat = DAMMAM[0] + rng.gauss(0, 0.05)
        lon = DAMMAM[1] + rng.gauss(0, 0.05)
        shops.append(
            m.Establishment(
                name_ar=f"منشأة {index}",
                name_en=f"Shop {index}",
                category=category,
                licence_no=f"{rng.randrange(10**9, 10**10)}-{index}",
                lat=lat,
                lon=lon,
                municipality=town,
                **h3_cells(lat, lon),
            )
        )
    m.Establishment.objects.bulk_create(shops, batch_size=1000)
    now = timezone.now()
    # Licences from five years ago to last week (2% newer than 30 days).
    ages = {shop.pk: rng.randrange(1, 30) if rng.random() < 0.02 else rng.randrange(30, 1800) for shop in shops}
    for age in set(ages.values()):
        m.Establishment.objects.filter(pk__in=[pk for pk, days in ages.items() if days == age]).update(
            created_at=now - timedelta(days=age)
        )
    visits, answers_of = [], []
    for shop in shops:
        if ages[shop.pk] < 30 or rng.random() < 0.1:
            continue  # new licences and a tenth of the register were never inspected
        bad = rng.random() < 0.25
        finished = now - timedelta(days=rng.randrange(5, min(ages[shop.pk], 540)))
        visits.append(
            m.Visit(
                client_id=uuid.uuid4(),
                establishment=shop,
                inspector=rng.choice(inspectors),
                checklist_version=version,
                municipality=town,
                category=category,
                started_at=finished - timedelta(minutes=15),
                finished_at=finished,
                received_at=finished,
                lat=shop.lat,
                lon=shop.lon,
                outcome="violations" if bad else "compliant",
                geo_status="verified",
                has_violation=bad,
                violation_count=int(bad),
                h3_r5=shop.h3_r5,
                h3_r6=shop.h3_r6,
                h3_r7=shop.h3_r7,
                h3_r8=shop.h3_r8,
                h3_r9=shop.h3_r9,
            )
        )
        answers_of.append(bad)
    m.Visit.objects.bulk_create(visits, batch_size=1000)
    answers = [
        m.Answer(visit=visit, item=item, item_code="CLEAN", value="no" if bad else "yes", failed=bad)
        for visit, bad in zip(visits, answers_of, strict=True)
    ]
    m.Answer.objects.bulk_create(answers, batch_size=1000)
    findings = []
    for visit, answer in zip(visits, answers, strict=True):
        if not answer.failed:
            continue
        still_open = rng.random() < 0.15  # most were closed by a later visit
        findings.append(
            m.Finding(
                visit=visit,
                answer=answer,
                establishment=visit.establishment,
                municipality=town,
                item_code="CLEAN",
                severity=rng.choice(["minor", "major", "critical"]),
                due_date=(visit.finished_at + timedelta(days=14)).date() if still_open else visit.finished_at.date(),
                status="open" if still_open else "closed",
                opened_at=visit.finished_at,
                closed_at=None if still_open else visit.finished_at,
            )
        )
    m.Finding.objects.bulk_create(findings, batch_size=1000)
    return town, inspectors


def main() -> None:
    setup_django()
    from inspections import models as m
    from inspections.domain.routing import route_length
    from inspections.services.planning import next_week_start, plan_week_draft
    from inspections.services.rounds import riyadh_today

    rng = random.Random(2026)
    started = time.perf_counter()
    town, inspectors = build_world(rng)
    print(f"world: {SHOPS} establishments, {INSPECTORS} inspectors, built in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    plan = plan_week_draft(actor=None, municipality_id=town.pk, week_start=next_week_start(riyadh_today()))
    seconds = time.perf_counter() - started
    summary = plan.summary
    rounds = list(
        m.Round.objects.filter(plan=plan).prefetch_related("stops__establishment").order_by("date", "inspector_id")
    )
    loads = Counter({user.pk: 0 for user in inspectors})
    planned_km = 0.0
    naive_km = 0.0
    planned_shops = []
    sizes = []
    for round in rounds:
        stops = sorted(round.stops.all(), key=lambda stop: stop.position)
        loads[round.inspector_id] += len(stops)
        planned_km += route_length([(s.establishment.lat, s.establishment.lon) for s in stops]) / 1000
        planned_shops.extend(stop.establishment for stop in stops)
        sizes.append(len(stops))
    # Baseline: the same shops in licence-number order, cut into rounds of the same sizes.
    ordered = sorted(planned_shops, key=lambda shop: shop.licence_no)
    at = 0
    for size in sizes:
        chunk = ordered[at : at + size]
        naive_km += route_length([(shop.lat, shop.lon) for shop in chunk]) / 1000
        at += size
    due, planned, capacity = summary["due"], summary["planned"], summary["capacity"]
    fit = min(due - len(summary["no_checklist_ids"]), capacity)
    follow_ups = summary["follow_ups"]
    ratio = max(loads.values()) / max(min(loads.values()), 1)
    days = len(summary["days"])
    print(f"due establishments:          {due} (capacity {capacity}: {INSPECTORS} inspectors x {days} days)")
    share = f"{planned / max(fit, 1):.1%} of the {fit} due that fit ({planned / max(due, 1):.1%} of all due)"
    print(f"planned:                     {planned} = {share}")
    print(f"follow-ups planned on time:  {summary['follow_ups_on_time']} of {follow_ups} due this week")
    print(f"loads (stops per inspector): min {min(loads.values())}, max {max(loads.values())}, max/min {ratio:.2f}")
    km_share = f"{planned_km / max(naive_km, 1e-9):.1%}"
    print(
        f"route km:                    {planned_km:.1f} planned vs {naive_km:.1f} in licence-number order ({km_share})"
    )
    print(f"seconds to plan:             {seconds:.2f}")
    aims = {
        "every due shop that fits is planned": planned == fit,
        "loads within 1.2x": ratio <= 1.2,
        "km under half the naive order": planned_km < naive_km / 2,
        "under 10 s": seconds < 10,
    }
    for aim, met in aims.items():
        print(f"  {'met' if met else 'MISSED'}: {aim}")


if __name__ == "__main__":
    main()
