"""Analytics writes: the indicator targets that admins set, per scope (analytics.targets)."""

from django.db import transaction
from django.utils.translation import gettext as _

from analytics.indicators import BY_CODE, Indicator, municipality_in_scope
from analytics.models import IndicatorTarget
from backend.exceptions import ApplicationError, NotFoundError, PermissionDeniedError, ValidationFailedError
from inspections.models import MUNICIPALITY_CLASSES, Municipality
from inspections.selectors.scope import Role, scope_for
from inspections.services.audit import audit_record


def _checked(
    *, actor, code: str, municipality_id: int | None, municipality_class: str, where: str
) -> tuple[Indicator, Municipality | None]:
    """The indicator and the scope a target write is for. Admins only (leadership reads targets);
    the scope is one of: a municipality or Amanah the actor sees (visible_to, refused alike when it
    does not exist: 422, like the indicators' own `municipality` filter), a class A-E, or neither
    (the national default). A class target is national, so it is authorised as the national default
    is: an admin's scope is every municipality (scope_for: `everything`), there is no admin of one
    Amanah, and anyone else is refused before the scope is looked at. `where` is "body" or "query"."""
    scope = scope_for(actor)
    if scope.role != Role.ADMIN:
        raise PermissionDeniedError(_("Only admins set indicator targets."))
    indicator = BY_CODE.get(code)
    if indicator is None:
        raise NotFoundError(_("Unknown indicator."))
    if municipality_class and municipality_class not in MUNICIPALITY_CLASSES:
        raise ValidationFailedError(
            _("A municipality class is one of A, B, C, D and E."),
            loc=[where, "municipality_class"],
            msg="unknown class",
        )
    if municipality_class and municipality_id is not None:
        raise ValidationFailedError(
            _("A target is set for a municipality or Amanah, or for a class, not both."),
            loc=[where, "municipality_class"],
            msg="municipality and class are exclusive",
        )
    if not scope.everything and (municipality_class or municipality_id is None):
        # Unreachable today (every admin is national); kept so a narrower admin never sets national targets.
        raise PermissionDeniedError(_("Only national admins set national and class targets."))
    if municipality_id is None:
        return indicator, None
    municipality = municipality_in_scope(user=actor, municipality_id=municipality_id, loc=[where, "municipality"])
    return indicator, municipality


def _details(*, code: str, target: float, margin: float, municipality_id: int | None, municipality_class: str) -> dict:
    return {
        "code": code,
        "target": target,
        "margin": margin,
        "scope": municipality_id,
        "class": municipality_class or None,
    }


@transaction.atomic
def indicator_target_set(
    *,
    actor,
    code: str,
    target: float,
    amber_margin: float = 0.0,
    municipality_id: int | None = None,
    municipality_class: str | None = "",
) -> IndicatorTarget:
    """Set (or replace) the target of one indicator for one scope: a municipality or an Amanah
    (`municipality_id`), a municipality class nationally (`municipality_class`, A-E), or the national
    default when neither is given; both at once is a 422. Admins only. A proportion's target and
    margin are shares between 0 and 1."""
    municipality_class = municipality_class or ""
    indicator, municipality = _checked(
        actor=actor, code=code, municipality_id=municipality_id, municipality_class=municipality_class, where="body"
    )
    if target < 0 or amber_margin < 0 or (indicator.proportion and (target > 1 or amber_margin > 1)):
        raise ApplicationError(_("A proportion's target and margin are shares between 0 and 1; others are >= 0."))
    row, _created = IndicatorTarget.objects.update_or_create(
        code=code,
        municipality=municipality,
        municipality_class=municipality_class,
        defaults={"target": target, "amber_margin": amber_margin, "updated_by": actor},
    )
    audit_record(
        actor=actor,
        action="indicator.target_set",
        target=row,
        municipality_id=municipality_id,
        details=_details(
            code=code,
            target=target,
            margin=amber_margin,
            municipality_id=municipality_id,
            municipality_class=municipality_class,
        ),
    )
    return row


@transaction.atomic
def indicator_target_delete(
    *, actor, code: str, municipality_id: int | None = None, municipality_class: str | None = ""
) -> None:
    """Remove the target of one indicator set on one scope (a municipality or Amanah, a class, or the
    national default), so its figures fall back to the next one in line (analytics.targets: an
    ancestor's, the class's, the national default; removing that leaves no target). Admins only; a
    scope with no target of its own for `code` is a 404."""
    municipality_class = municipality_class or ""
    _indicator, municipality = _checked(
        actor=actor, code=code, municipality_id=municipality_id, municipality_class=municipality_class, where="query"
    )
    row = (
        IndicatorTarget.objects.select_for_update()
        .filter(code=code, municipality=municipality, municipality_class=municipality_class)
        .first()
    )
    if row is None:
        raise NotFoundError(_("No target is set for this indicator in this scope."))
    audit_record(
        actor=actor,
        action="indicator.target_delete",
        target=row,
        municipality_id=municipality_id,
        details=_details(
            code=code,
            target=row.target,
            margin=row.amber_margin,
            municipality_id=municipality_id,
            municipality_class=municipality_class,
        ),
    )
    row.delete()
