"""The institutional indicators (penalties issued and their amount, objections upheld, public reports
closed within their target) and the imported-visit rule of "findings corrected on time", on a world
worked out by hand. October 2026, Asia/Riyadh."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.indicators import INDICATORS
from community.models import Case, ServiceType
from enforcement.models import Objection, PenaltyNotice
from inspections.models import HistoryImport, ImportedVisit, RoundStop
from tests.enforcement_support import violating_visit, violation
from tests.factories import EstablishmentFactory, RoundFactory, RoundStopFactory, VisitFactory

RIYADH = ZoneInfo("Asia/Riyadh")


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=RIYADH)


def notice(number, *, inspector, municipality, issued, original, amount, status="issued"):
    visit, finding = violating_visit(inspector=inspector, municipality=municipality, at=issued)
    return PenaltyNotice.objects.create(
        number=number, finding=finding, visit=visit, establishment=visit.establishment, municipality=municipality,
        violation=violation(code=f"V-{number}"), legal_basis="Art. 1", reason="serious", base_sar=original,
        class_factor=1, size_factor=1, factors={}, original_amount_sar=Decimal(original), amount_sar=Decimal(amount),
        offence_at=issued, issued_at=issued, due_date=issued.date(), objection_deadline=issued.date(), status=status,
    )  # fmt: skip


def objection(notice, decision, decided):
    return Objection.objects.create(
        notice=notice, owner_name="Owner", reasons="r", filed_at=decided, status="decided", decision=decision,
        decided_amount_sar=notice.amount_sar, decided_at=decided,
    )  # fmt: skip


def case(municipality, *, inspector, opened, visited=None, dismissed=False):
    service, _ = ServiceType.objects.get_or_create(code="food", defaults={"name_ar": "غذاء", "name_en": "Food"})
    stop = None
    if visited:
        round = RoundFactory(municipality=municipality, inspector=inspector, date=visited.date())
        stop = RoundStopFactory(
            round=round, establishment=EstablishmentFactory(municipality=municipality), status=RoundStop.Status.VISITED
        )
        VisitFactory(establishment=stop.establishment, inspector=inspector, round_stop=stop, finished_at=visited)
    return Case.objects.create(
        service_type=service, municipality=municipality, lat=26.4, lon=50.1, h3_r9=1, opened_at=opened,
        last_reported_at=opened, round_stop=stop, dismissed_at=opened if dismissed else None,
        dismissed_reason="dup" if dismissed else "",
    )  # fmt: skip


@pytest.fixture
def world(dammam, khobar, inspector, inspector_khobar):
    # Dammam, October: three notices 1000 (stands), 800 reduced to 300, 500 cancelled -> 3, 1300 SAR.
    upheld = notice("N1", inspector=inspector, municipality=dammam, issued=at(2026, 10, 3), original="1000.00",
                    amount="1000.00", status="upheld")  # fmt: skip
    reduced = notice("N2", inspector=inspector, municipality=dammam, issued=at(2026, 10, 4), original="800.00",
                     amount="300.00", status="reduced")  # fmt: skip
    cancelled = notice("N3", inspector=inspector, municipality=dammam, issued=at(2026, 10, 5), original="500.00",
                       amount="0.00", status="cancelled")  # fmt: skip
    # A September notice, and Khobar's October one: neither counted for Dammam in October.
    notice("N4", inspector=inspector, municipality=dammam, issued=at(2026, 9, 20), original="700.00", amount="700.00")
    notice("N5", inspector=inspector_khobar, municipality=khobar, issued=at(2026, 10, 6), original="9000.00",
           amount="9000.00")  # fmt: skip
    # Objections decided in October: upheld, reduced, cancelled -> 1 of 3 upheld.
    objection(upheld, "upheld", at(2026, 10, 10))
    objection(reduced, "reduced", at(2026, 10, 11))
    objection(cancelled, "cancelled", at(2026, 10, 12))
    # Cases closed in October: opened 1 Oct 10:00, visited 8 Oct 10:00 (7 days: within);
    # opened 1 Oct, visited 15 Oct (late); a dismissed one and one still open are not counted.
    case(dammam, inspector=inspector, opened=at(2026, 10, 1), visited=at(2026, 10, 8))
    case(dammam, inspector=inspector, opened=at(2026, 10, 1), visited=at(2026, 10, 15))
    case(dammam, inspector=inspector, opened=at(2026, 10, 2), dismissed=True)
    case(dammam, inspector=inspector, opened=at(2026, 10, 3))
    return {"dammam": dammam, "khobar": khobar}


def figures(api, user, month, key):
    response = api.as_user(user).get("analytics/indicators", {"month": month})
    assert response.status_code == 200, response.content
    return {row["key"]: row["indicators"] for row in response.json()["rows"]}[key]


def test_october_by_hand(api, leader, world):
    dammam = figures(api, leader, "2026-10", str(world["dammam"].id))
    assert dammam["penalties_issued"]["value"] == 3
    assert dammam["penalties_amount_sar"]["value"] == 1300.0  # 1000 + 300 (reduced) + 0 (cancelled)
    upheld = dammam["objections_upheld"]
    assert (upheld["value"], upheld["numerator"], upheld["denominator"]) == (pytest.approx(1 / 3), 1, 3)
    # Wilson 95% for 1 of 3 by hand: [0.0615, 0.7923].
    assert upheld["ci_low"] == pytest.approx(0.0615, abs=1e-3)
    assert upheld["ci_high"] == pytest.approx(0.7923, abs=1e-3)
    reports = dammam["reports_closed_on_target"]
    assert (reports["value"], reports["numerator"], reports["denominator"]) == (0.5, 1, 2)
    assert reports["ci_low"] is not None


def test_another_municipality_and_its_scope(api, leader, supervisor_khobar, world):
    khobar = figures(api, leader, "2026-10", str(world["khobar"].id))
    assert khobar["penalties_issued"]["value"] == 1
    assert khobar["penalties_amount_sar"]["value"] == 9000.0
    assert khobar["objections_upheld"]["value"] is None  # none decided: no figure, not 0
    assert khobar["reports_closed_on_target"]["value"] is None
    response = api.as_user(supervisor_khobar).get("analytics/indicators", {"month": "2026-10", "group_by": "total"})
    total = response.json()["rows"][0]["indicators"]
    assert total["penalties_amount_sar"]["value"] == 9000.0  # Dammam's notices are outside this scope


def test_an_empty_month_is_null_not_zero(api, leader, world):
    empty = figures(api, leader, "2025-01", str(world["dammam"].id))
    for code in ("penalties_issued", "penalties_amount_sar", "objections_upheld", "reports_closed_on_target"):
        assert empty[code]["value"] is None, code


def test_the_case_target_is_a_setting(api, leader, world, settings):
    settings.COMMUNITY_CASE_TARGET_DAYS = 14
    reports = figures(api, leader, "2026-10", str(world["dammam"].id))["reports_closed_on_target"]
    assert (reports["numerator"], reports["denominator"]) == (2, 2)
    settings.COMMUNITY_CASE_TARGET_DAYS = 6
    reports = figures(api, leader, "2026-10", str(world["dammam"].id))["reports_closed_on_target"]
    assert (reports["numerator"], reports["denominator"]) == (0, 2)


def test_imported_findings_leave_corrected_on_time(api, leader, inspector, dammam, admin_user):
    # Two findings due 20 October, both still open: one from a live visit, one from a visit imported from
    # history (closed undated there). Only the live one is in the denominator: 0 of 1, not 0 of 2.
    _live, live_finding = violating_visit(inspector=inspector, municipality=dammam, at=at(2026, 10, 1), code="L")
    old, old_finding = violating_visit(inspector=inspector, municipality=dammam, at=at(2026, 10, 1), code="O")
    for finding in (live_finding, old_finding):
        finding.due_date = date(2026, 10, 20)
        finding.save()
    batch = HistoryImport.objects.create(file_name="history.csv", file_sha256="0" * 64, imported_by=admin_user)
    ImportedVisit.objects.create(
        visit=old, history_import=batch, key="k1", source_file="history.csv", row_number=1, inspector_name="x",
        imported_by=admin_user, imported_at=at(2026, 10, 2),
    )  # fmt: skip
    due = figures(api, leader, "2026-10", str(dammam.id))["corrected_on_time"]
    assert (due["numerator"], due["denominator"]) == (0, 1)


def test_every_indicator_is_in_the_csv(api, leader, world):
    response = api.as_user(leader).get("analytics/indicators.csv", {"month": "2026-10"})
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 2 * len(INDICATORS)
    assert any(f",{world['dammam'].id}," in line and ",penalties_amount_sar,1300.0," in line for line in lines)
