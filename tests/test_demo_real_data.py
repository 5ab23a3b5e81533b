"""The demo seed beside real data (issue 11 item 5): it writes only into an empty database or one it
made, and never plans, visits or notifies a user, establishment or checklist it did not create.

The "real" register here is what an Amanah's import leaves: municipalities, an inspector and a
supervisor with memberships, establishments and a published checklist, none of them made by the seed.
"""

import io
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from inspections.demo import checklists as demo_checklists
from inspections.demo import foundation as demo_foundation
from inspections.demo import notifications as demo_notifications
from inspections.demo import rounds as demo_rounds
from inspections.demo import visits as demo_visits
from inspections.demo.records import demo_record, demo_seed_verdict
from inspections.models import (
    AuditEvent,
    Checklist,
    ChecklistVersion,
    DemoRecord,
    Establishment,
    Membership,
    Municipality,
    Round,
    RoundStop,
    Visit,
)
from notifications.models import Device, Notification
from tests.factories import make_user
from tests.rounds_helpers import establishments_on_line
from tests.visit_support import make_checklist

pytestmark = pytest.mark.django_db
User = get_user_model()
Role = Membership.Role


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def real_register(dammam, khobar):
    """An imported register: nothing in it was made by the demo."""
    version, _items = make_checklist()
    return {
        "inspector": make_user(Role.INSPECTOR, dammam, username="real_inspector"),
        "supervisor": make_user(Role.SUPERVISOR, dammam, username="real_supervisor"),
        "leader": make_user(Role.LEADERSHIP, dammam, username="real_leader"),
        "establishments": establishments_on_line(dammam, 12, step_deg=0.003),
        "version": version,
    }


def snapshot() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Municipality, Establishment, Checklist, Round, Visit, Notification, Device, AuditEvent)
    }


def test_the_seed_writes_nothing_into_a_database_it_did_not_make(real_register, capsys):
    before = snapshot()
    with pytest.raises(CommandError, match="holds data the demo did not create"):
        call_command("seed_demo")
    assert snapshot() == before and not DemoRecord.objects.exists()


def test_make_run_starts_without_demo_data_and_says_so(real_register, capsys):
    before = snapshot()
    call_command("seed_demo", "--if-allowed")  # what `make run` calls: no failure, a plain message
    out = capsys.readouterr().out
    assert "No demo data: this database holds data the demo did not create" in out
    assert "3 users" in out and "12 establishments" in out
    assert snapshot() == before


def test_an_empty_database_and_a_demo_database_are_seeded(db):
    assert demo_seed_verdict().allowed  # empty
    demo_foundation.seed()
    assert DemoRecord.objects.filter(kind="user").count() == User.objects.count() > 0
    assert DemoRecord.objects.filter(kind="establishment").count() == Establishment.objects.count() > 0
    assert demo_seed_verdict().allowed  # made by the demo: the next `make run` tops it up


def test_a_real_register_imported_into_the_demo_database_is_never_touched(real_register, dammam, khobar):
    """The demo database of `make run`, then a real register imported into it: seeding again (every `make run`)
    plans, visits and notifies the demo's own users and shops only."""
    demo_checklists.seed()  # the demo's checklists, recorded as the demo's
    demo_inspector = make_user(Role.INSPECTOR, khobar, dammam, username="inspector_demo")
    demo_supervisor = make_user(Role.SUPERVISOR, khobar, username="supervisor_demo")
    demo_shops = establishments_on_line(khobar, 12, step_deg=0.002) + establishments_on_line(dammam, 8, step_deg=0.002)
    demo_record([khobar, demo_inspector, demo_supervisor, *demo_shops])
    real_checklist = real_register["version"].checklist
    real_checklist_state = (
        list(real_checklist.categories.values_list("pk", flat=True)),
        list(real_checklist.versions.values_list("pk", "status", "published_at")),
        real_checklist.name_en,
    )
    real_establishments = [e.pk for e in real_register["establishments"]]
    real_users = [real_register[key].pk for key in ("inspector", "supervisor", "leader")]

    demo_rounds.seed()
    demo_visits.seed()
    demo_notifications.seed()

    # The demo ran (a positive control: otherwise "nothing touched" would prove nothing)...
    assert Round.objects.filter(inspector=demo_inspector).exists()
    assert Visit.objects.filter(inspector=demo_inspector).count() > 50
    # ...and nothing of the real register was planned, visited, notified or changed.
    assert not Round.objects.filter(inspector_id__in=real_users).exists()
    assert not Round.objects.filter(created_by_id__in=real_users).exists()
    assert not RoundStop.objects.filter(establishment_id__in=real_establishments).exists()
    assert not Visit.objects.filter(establishment_id__in=real_establishments).exists()
    assert not Visit.objects.filter(inspector_id__in=real_users).exists()
    assert not Visit.objects.filter(checklist_version__checklist=real_checklist).exists()
    assert not Notification.objects.filter(recipient_id__in=real_users).exists()
    assert not Device.objects.filter(user_id__in=real_users).exists()
    assert not AuditEvent.objects.filter(actor_id__in=real_users).exists()
    assert Establishment.objects.filter(pk__in=real_establishments, risk_score__gt=0).count() == 0
    real_checklist.refresh_from_db()
    assert real_checklist_state == (
        list(real_checklist.categories.values_list("pk", flat=True)),
        list(real_checklist.versions.values_list("pk", "status", "published_at")),
        real_checklist.name_en,
    )
    assert ChecklistVersion.objects.filter(checklist=real_checklist).count() == 1


def test_no_demo_visits_where_a_real_leader_oversees(real_register, dammam, khobar, amanah):
    """A real leader of the whole Amanah: demo visits anywhere in it would move their rates."""
    demo_checklists.seed()
    demo_inspector = make_user(Role.INSPECTOR, khobar, username="inspector_demo")
    demo_record([demo_inspector, *establishments_on_line(khobar, 12, step_deg=0.002)])
    make_user(Role.LEADERSHIP, amanah=amanah, username="real_amanah_leader")
    demo_rounds.seed()
    demo_visits.seed()
    assert not Round.objects.exists() and not Visit.objects.exists()


def test_the_seed_leaves_a_real_checklist_with_a_demo_code_alone(db, capsys):
    real = Checklist.objects.create(code="covid19-shops", name_ar="حقيقية", name_en="Real one")
    demo_checklists.seed(stdout=sys.stdout)
    real.refresh_from_db()
    assert real.name_en == "Real one" and not real.versions.exists() and not real.categories.exists()
    assert "covid19-shops exists and is not the demo's: left alone" in capsys.readouterr().out


def test_demo_visits_show_progress(db, dammam, supervisor):
    """Item 20: the visits part took 35 silent seconds in `make run`."""
    make_checklist()
    demo_checklists.seed()
    demo_inspector = make_user(Role.INSPECTOR, dammam, username="inspector_demo")
    demo_record([demo_inspector, *establishments_on_line(dammam, 8, step_deg=0.003)])
    out = io.StringIO()
    demo_visits.seed(stdout=out)
    assert out.getvalue().count("stored so far...") >= 4, out.getvalue()  # a line a week
