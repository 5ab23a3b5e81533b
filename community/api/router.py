"""Community endpoints of /api/v1/: the supervisors' triage queue, shop stickers, volunteers' own
reports and the reward report, and admins' webhook subscriptions (delivery log, replay)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from backend.api_basics import ERRORS, LocalIsoDateTime, MappedList, Page
from backend.exceptions import ApplicationError, PermissionDeniedError
from community.api.schemas import (
    CaseOut,
    DeliveryOut,
    DismissIn,
    MyReportOut,
    MyReportsOut,
    ReplayIn,
    ReplayOut,
    ShopByCodeOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    TrackRecordOut,
    TriageBody,
)
from community.models import Report, Volunteer, WebhookDelivery, WebhookSubscription
from community.selectors import cases as case_selectors
from community.selectors.shops import shop_codes_visible
from community.selectors.volunteers import rewards, rewards_csv, track_records
from community.services.cases import TriageIn, case_dismiss, case_triage
from community.services.shops import shop_sticker_pdf
from community.services.webhooks import subscription_create, subscription_update, webhooks_replay
from inspections.models import Establishment, Membership
from inspections.selectors.scope import scope_for, visible_to

router = Router(tags=["community"])
STATES = "|".join(case_selectors.STATES)


def _instant(value: datetime | None) -> datetime | None:
    """A client's date-time in UTC, within years the database stores (any offset PostgreSQL refuses is gone)."""
    if value is None:
        return None
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not 1900 <= moment.year <= 2200:
        raise ApplicationError(_("Use a date-time between the years 1900 and 2200."), code="invalid_datetime")
    return moment


def _require(request: HttpRequest, *roles: str) -> None:
    if not scope_for(request.user).has_role(*roles):
        raise PermissionDeniedError()


@router.get("community/cases", response={200: list[CaseOut], **ERRORS})
@paginate(Page)
def cases_list(
    request: HttpRequest,
    state: str = Query("new", pattern=rf"^({STATES})$", description="new (the triage queue), ... or closed"),
    municipality: int | None = Query(None, ge=1, le=2**62, description="Only this municipality's cases"),
):
    """The triage queue (`state=new`, the default): volunteers' reports first, then the most reported."""
    _require(request, Membership.Role.SUPERVISOR, Membership.Role.LEADERSHIP)
    if state == case_selectors.NEW:
        cases = case_selectors.triage_queue(user=request.user)
    else:
        cases = case_selectors.visible_cases(user=request.user).filter(state=state).order_by("-opened_at", "-id")
    if municipality is not None:
        cases = cases.filter(municipality_id=municipality)
    return MappedList(cases, page_mapper=_cases_out)


def _cases_out(page: list) -> list[CaseOut]:
    tokens = case_selectors.photo_tokens([case.pk for case in page])  # one query for the page's photos
    return [CaseOut.of(case, tokens) for case in page]


def _case_out(case) -> CaseOut:
    return _cases_out([case])[0]


def _case(request: HttpRequest, case_id: int):
    _require(request, Membership.Role.SUPERVISOR, Membership.Role.LEADERSHIP)
    return get_object_or_404(case_selectors.visible_cases(user=request.user), pk=case_id)


@router.get("community/cases/{case_id}", response={200: CaseOut, **ERRORS})
def case_detail(request: HttpRequest, case_id: int):
    return _case_out(_case(request, case_id))


@router.post("community/cases/{case_id}/triage", response={200: CaseOut, **ERRORS, 409: ERRORS[400]})
def case_triage_view(request: HttpRequest, case_id: int, payload: TriageBody):
    """Make the case a priority stop: first among the pending stops of a round (through the rounds services)."""
    case = _case(request, case_id)
    triaged = case_triage(actor=request.user, case_id=case.pk, triage=TriageIn(**payload.model_dump()))
    return _case_out(triaged)


@router.post("community/cases/{case_id}/dismiss", response={200: CaseOut, **ERRORS, 409: ERRORS[400]})
def case_dismiss_view(request: HttpRequest, case_id: int, payload: DismissIn):
    case = _case(request, case_id)
    return _case_out(case_dismiss(actor=request.user, case_id=case.pk, reason=payload.reason))


@router.get(
    "community/establishments/{establishment_id}/sticker.pdf",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}, "description": "A6 sticker"}}},
)
def sticker(request: HttpRequest, establishment_id: int):
    """The printable Arabic sticker with the QR of the shop's public page (supervisors and admins)."""
    _require(request, Membership.Role.SUPERVISOR)
    establishment = get_object_or_404(visible_to(Establishment.objects.all(), user=request.user), pk=establishment_id)
    response = HttpResponse(shop_sticker_pdf(establishment=establishment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sticker-{establishment.pk}.pdf"'
    return response


# Codes are 10 characters of an unambiguous alphabet; anything else is refused before the database.
SHOP_CODE = re.compile(r"^[0-9A-Za-z]{4,16}$")


@router.get("community/shops/{shop_code}", response={200: ShopByCodeOut, **ERRORS})
def shop_by_code(request: HttpRequest, shop_code: str):
    """The establishment whose shop-front QR carries this public code (the field app's "scan the
    shop's QR"). Any case; an unknown code and another municipality's shop are the same 404."""
    if not SHOP_CODE.match(shop_code):
        raise ApplicationError(
            _("A shop code is 4 to 16 letters and digits, as printed under the QR."),
            code="invalid_shop_code",
            status=422,
        )
    found = get_object_or_404(shop_codes_visible(user=request.user), code=shop_code.upper())
    return ShopByCodeOut(
        code=found.code,
        establishment_id=found.establishment_id,
        name_ar=found.establishment.name_ar,
        name_en=found.establishment.name_en,
    )


@router.get("community/me/reports", response={200: MyReportsOut, **ERRORS})
def my_reports(request: HttpRequest):
    """A registered volunteer's reports, the state of each case, and their track record."""
    volunteer = Volunteer.objects.filter(user=request.user, is_active=True).first()
    if volunteer is None:
        raise PermissionDeniedError(_("Only registered volunteers have reports here."))
    reports = list(Report.objects.filter(volunteer=volunteer).select_related("service_type").order_by("-id")[:200])
    states = {case.pk: case for case in case_selectors.public_cases().filter(pk__in={r.case_id for r in reports})}
    record = track_records([volunteer.pk])[volunteer.pk]
    return MyReportsOut(
        track_record=TrackRecordOut(
            reports=record.reports,
            decided=record.decided,
            confirmed=record.confirmed,
            share_confirmed=record.share_confirmed,
        ),
        reports=[
            MyReportOut(
                id=report.pk,
                case_id=report.case_id,
                service_code=report.service_type.code,
                submitted_at=report.submitted_at,
                state=states[report.case_id].state,
                inspection_outcome=states[report.case_id].visit_outcome
                if states[report.case_id].state == "closed"
                else None,
            )
            for report in reports
        ],
    )


@router.get(
    "community/volunteers/rewards.csv",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with BOM"}}},
)
def rewards_export(request: HttpRequest, since: LocalIsoDateTime | None = None, until: LocalIsoDateTime | None = None):
    """Each volunteer's reward under VOLUNTEER_REWARD_SHARE of the fines their confirmed reports led to
    (staff and municipal users excluded), for cases closed in [since, until) (default: the last 31 days).
    Computed for the programme's records, never paid by Jawla."""
    _require(request, Membership.Role.LEADERSHIP)
    until = _instant(until) or timezone.now()
    since = _instant(since) or until - timedelta(days=31)
    if until <= since:
        raise ApplicationError(_("`until` must be after `since`."), code="invalid_range")
    response = HttpResponse(rewards_csv(rewards(since=since, until=until)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="volunteer-rewards.csv"'
    return response


# --- webhooks (admins) ------------------------------------------------------------------------------


def _admin(request: HttpRequest) -> None:
    if not scope_for(request.user).is_admin:
        raise PermissionDeniedError()


def _subscription_out(subscription: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.pk,
        url=subscription.url,
        description=subscription.description,
        event_types=subscription.event_types,
        is_active=subscription.is_active,
        created_at=subscription.created_at,
    )


@router.get("community/webhooks", response={200: list[SubscriptionOut], **ERRORS})
def webhooks_list(request: HttpRequest):
    _admin(request)
    return [_subscription_out(s) for s in WebhookSubscription.objects.all()]


@router.post("community/webhooks", response={201: SubscriptionCreatedOut, **ERRORS})
def webhooks_create(request: HttpRequest, payload: SubscriptionIn):
    """Subscribe a URL to events; the answer carries the signing secret (once)."""
    _admin(request)
    subscription = subscription_create(
        actor=request.user, url=payload.url, event_types=payload.event_types, description=payload.description
    )
    return Status(
        201, SubscriptionCreatedOut(**_subscription_out(subscription).model_dump(), secret=subscription.secret)
    )


@router.patch("community/webhooks/{subscription_id}", response={200: SubscriptionOut, **ERRORS})
def webhooks_update(request: HttpRequest, subscription_id: int, payload: SubscriptionPatch):
    _admin(request)
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    subscription = subscription_update(
        subscription=subscription, event_types=payload.event_types, is_active=payload.is_active
    )
    return _subscription_out(subscription)


@router.get("community/webhooks/{subscription_id}/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(Page)
def webhooks_deliveries(request: HttpRequest, subscription_id: int):
    """The delivery log: each event sent to this subscription, its attempts and their answers."""
    _admin(request)
    subscription = get_object_or_404(WebhookSubscription, pk=subscription_id)
    deliveries = (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("log")
        .order_by("-id")
    )
    return MappedList(deliveries, DeliveryOut.of)


@router.post("community/webhook-replays", response={200: ReplayOut, **ERRORS})
def webhooks_replay_view(request: HttpRequest, payload: ReplayIn):
    """Send one event again, or every event of a time range, with the same `webhook-id`."""
    _admin(request)
    subscription = None
    if payload.subscription_id is not None:
        subscription = get_object_or_404(WebhookSubscription, pk=payload.subscription_id)
    queued = webhooks_replay(
        event_ids=[payload.event_id] if payload.event_id else None,
        since=_instant(payload.since),
        until=_instant(payload.until),
        subscription=subscription,
    )
    return ReplayOut(queued=queued)
