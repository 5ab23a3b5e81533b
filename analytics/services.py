"""Analytics writes: the indicator targets that admins set, per scope (analytics.targets)."""

from django.db import transaction
from django.utils.translation import gettext as _

from analytics.indicators import BY_CODE, Indicator, municipality_in_scope
from analytics.models import IndicatorTarget
from backend.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from inspections.models import Municipality
from inspections.selectors.scope import Role, scope_for
from inspections.services.audit import audit_record


def _checked(*, actor, code: str, municipality_id: int | None, loc: list[str]) -> tuple[Indicator, Municipality | None]:
    """The indicator and the scope a target write is for. Admins only (leadership reads targets);
    the scope must be a municipality or Amanah the actor sees (visible_to), refused alike when it does
    not exist (422), like the indicators' own `municipality` filter."""
    if scope_for(actor).role != Role.ADMIN:
        raise PermissionDeniedError(_("Only admins set indicator targets."))
    indicator = BY_CODE.get(code)
    if indicator is None:
        raise NotFoundError(_("Unknown indicator."))
    if municipality_id is None:
        return indicator, None
    municipality = municipality_in_scope(user=actor, municipality_id=municipality_id, loc=loc)
    return indicator, municipality


@transaction.atomic
def indicator_target_set(
    *, actor, code: str, target: float, amber_margin: float = 0.0, municipality_id: int | None = None
) -> IndicatorTarget:
    """Set (or replace) the target of one indicator for one scope: a municipality or an Amanah, or
    the national default when `municipality_id` is None. Admins only. A proportion's target and
    margin are shares between 0 and 1."""
    indicator, municipality = _checked(
        actor=actor, code=code, municipality_id=municipality_id, loc=["body", "municipality"]
    )
    if target < 0 or amber_margin < 0 or (indicator.proportion and (target > 1 or amber_margin > 1)):
        raise ApplicationError(_("A proportion's target and margin are shares between 0 and 1; others are >= 0."))
    row, _created = IndicatorTarget.objects.update_or_create(
        code=code,
        municipality=municipality,
        defaults={"target": target, "amber_margin": amber_margin, "updated_by": actor},
    )
    audit_record(
        actor=actor,
        action="indicator.target_set",
        target=row,
        municipality_id=municipality_id,
        details={"code": code, "target": target, "margin": amber_margin, "scope": municipality_id},
    )
    return row


@transaction.atomic
def indicator_target_delete(*, actor, code: str, municipality_id: int | None = None) -> None:
    """Remove the target of one indicator set on one scope, so its figures fall back to the nearest
    ancestor's target (or the national default; removing that leaves no target). Admins only; a
    scope with no target of its own for `code` is a 404."""
    _indicator, municipality = _checked(
        actor=actor, code=code, municipality_id=municipality_id, loc=["query", "municipality"]
    )
    row = IndicatorTarget.objects.select_for_update().filter(code=code, municipality=municipality).first()
    if row is None:
        raise NotFoundError(_("No target is set for this indicator in this scope."))
    audit_record(
        actor=actor,
        action="indicator.target_delete",
        target=row,
        municipality_id=municipality_id,
        details={"code": code, "target": row.target, "margin": row.amber_margin, "scope": municipality_id},
    )
    row.delete()
