"""Analytics writes: the indicator targets that admins set."""

from django.db import transaction
from django.utils.translation import gettext as _

from analytics.indicators import BY_CODE
from analytics.models import IndicatorTarget
from backend.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from inspections.selectors.scope import Role, scope_for
from inspections.services.audit import audit_record


@transaction.atomic
def indicator_target_set(*, actor, code: str, target: float, amber_margin: float = 0.0) -> IndicatorTarget:
    """Set (or replace) the target of one indicator; admins only. A proportion's target and margin
    are shares between 0 and 1."""
    if scope_for(actor).role != Role.ADMIN:
        raise PermissionDeniedError(_("Only admins set indicator targets."))
    indicator = BY_CODE.get(code)
    if indicator is None:
        raise NotFoundError(_("Unknown indicator."))
    if target < 0 or amber_margin < 0 or (indicator.proportion and (target > 1 or amber_margin > 1)):
        raise ApplicationError(_("A proportion's target and margin are shares between 0 and 1; others are >= 0."))
    row, _created = IndicatorTarget.objects.update_or_create(
        code=code, defaults={"target": target, "amber_margin": amber_margin, "updated_by": actor}
    )
    audit_record(
        actor=actor, action="indicator.target_set", target=row, details={"target": target, "margin": amber_margin}
    )
    return row
