"""What a shop's public page shows: licence status, the last inspection (date and result). Nothing
about reporters or inspectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from community.models import ShopCode
from inspections.models import Establishment, Visit
from inspections.selectors.scope import visible_to


@dataclass(frozen=True)
class ShopPublic:
    code: str
    establishment: Establishment
    last_visit: Visit | None


def shop_public(*, code: str) -> ShopPublic | None:
    shop = (
        ShopCode.objects.select_related("establishment__category", "establishment__municipality")
        .filter(code=code.upper()[:16])
        .first()
    )
    if shop is None:
        return None
    last_visit = (
        Visit.objects.filter(establishment_id=shop.establishment_id)
        .only("id", "finished_at", "outcome", "violation_count")
        .order_by("-finished_at", "-id")
        .first()
    )
    return ShopPublic(code=shop.code, establishment=shop.establishment, last_visit=last_visit)


def shop_codes_visible(*, user) -> QuerySet[ShopCode]:
    """The shop codes of the establishments the user may see (an inspector scanning a shop front)."""
    return ShopCode.objects.select_related("establishment").filter(
        establishment__in=visible_to(Establishment.objects.all(), user=user)
    )
