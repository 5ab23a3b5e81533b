"""What a shop's public page shows: licence status, the last inspection (date and result). Nothing
about reporters or inspectors."""

from __future__ import annotations

from dataclasses import dataclass

from community.models import ShopCode
from inspections.models import Establishment, Visit


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
