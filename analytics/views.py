"""The leadership dashboard: Django session login (supervisors, leadership and admins; inspectors are
refused) and one page that draws the analytics API's JSON (fetched with the session cookie)."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from analytics import selectors
from analytics.indicators import INDICATORS
from analytics.targets import class_label
from inspections.domain import calendar
from inspections.domain.names import localized_name
from inspections.models import MUNICIPALITY_CLASSES, Category, Checklist, Municipality, Visit
from inspections.selectors.scope import scope_for, visible_to


def _activate_dashboard_language(request) -> None:
    """Arabic unless the person chose otherwise: the language switch's cookie, else their profile's
    language; the browser's Accept-Language is not a choice (most browsers here send en-US)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen not in dict(settings.LANGUAGES):
        membership = getattr(request.user, "membership", None) if request.user.is_authenticated else None
        chosen = getattr(membership, "language", None) or settings.LANGUAGE_CODE
    translation.activate(chosen)
    request.LANGUAGE_CODE = chosen


class DashboardLoginForm(AuthenticationForm):
    """Django's login form, refusing users whose role has no access to analytics (inspectors)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_analytics": gettext_lazy("The dashboard is for supervisors, leadership and admins."),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not selectors.can_view_analytics(user=user):
            raise forms.ValidationError(self.error_messages["not_analytics"], code="not_analytics")


class DashboardLoginView(auth_views.LoginView):
    template_name = "analytics/login.html"
    authentication_form = DashboardLoginForm
    redirect_authenticated_user = False

    def dispatch(self, request, *args, **kwargs):
        _activate_dashboard_language(request)
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return "/dashboard/"


class DashboardLogoutView(auth_views.LogoutView):
    next_page = "/dashboard/login/"


def _role_label(scope) -> str:
    labels = {"supervisor": _("Supervisor"), "leadership": _("Leadership"), "admin": _("Admin")}
    return labels.get(scope.role or "", scope.role or "")


@login_required
def indicators_page(request):
    """Leadership's indicators for one month (Gregorian or Umm al-Qura) over a scope; the figures come
    from GET analytics/indicators (static JS), admins set targets per scope through its PUT and remove a
    scope's own through its DELETE."""
    user = request.user
    _activate_dashboard_language(request)
    if not selectors.can_view_analytics(user=user):
        raise PermissionDenied(_("The dashboard is for supervisors, leadership and admins."))
    english = selectors.is_english()
    today = timezone.localdate()
    hijri_today = calendar.hijri_of(today)
    scope = scope_for(user)
    visible = visible_to(Municipality.objects.defer("boundary"), user=user, field="id").order_by("code")

    def name(m):
        return localized_name(m, "en" if english else "ar")

    context = {
        "amanahs": [(m.id, name(m)) for m in visible if m.kind == Municipality.Kind.AMANAH],
        "municipalities": [(m.id, name(m)) for m in visible if m.kind == Municipality.Kind.BALADIYA],
        "gregorian_months": [(number, str(MONTHS[number])) for number in range(1, 13)],
        "hijri_months": list(enumerate(calendar.hijri_table(language="en" if english else "ar")["months"], start=1)),
        "gregorian_year": today.year,
        "gregorian_month": today.month,
        "hijri_year": hijri_today.year if hijri_today else 1448,
        "hijri_month": hijri_today.month if hijri_today else 1,
        "today": today,
        "today_hijri": selectors.hijri_label(today),
        "role_label": _role_label(scope),
        "is_admin": scope.role == "admin",
        "municipality_classes": [(code, class_label(code)) for code in MUNICIPALITY_CLASSES],
        "definitions": [(i.code, str(i.name), str(i.definition), i.proportion) for i in INDICATORS],
        "strings": {
            "light": {
                "green": _("Meets target"),
                "amber": _("Near target"),
                "red": _("Below target"),
                "none": _("No target set"),
            },
            "interval": _("95% interval"),
            "target": _("Target"),
            "margin": _("Amber margin"),
            "days": _("days"),
            "sar": _("SAR"),
            "of": _("of"),
            "no_value": _("No data in this month"),
            "loading": _("Loading…"),
            "error": _("The indicators could not be loaded."),
            "saved": _("Target saved."),
            "removed": _("Target removed."),
            "target_from": _("Target from"),
            "inherited": _("inherited"),
            "national": _("National"),
            "applies_to": _("Applies to"),
            "remove_target": _("Remove the target set for {scope}"),
            "all": _("All in my scope"),
            "scope_total": _("Whole scope"),
            "no_rows": _("No municipalities in this scope."),
            "definition": _("Definition"),
            "set_target": _("Set target"),
            "save": _("Save"),
            "percent_hint": _("in percent"),
            "working_days": _("working days"),
            "indicator": _("Indicator"),
            # The breakdown's first column, by the "Rows" choice (group_by).
            "row_head": {
                # A context of its own: the project catalogue's "Municipality" is the kind (بلدية).
                "municipality": pgettext("column heading", "Municipality"),
                "amanah": _("Amanah"),
                "municipality_class": _("Municipality class"),
            },
            "bad_year": _("The year must be between 1900 and 2100."),
            "bad_hijri_year": _("The Hijri year must be between 1343 and 1500."),
        },
    }
    return render(request, "analytics/indicators.html", context)


@login_required
def dashboard(request):
    user = request.user
    _activate_dashboard_language(request)
    if not selectors.can_view_analytics(user=user):
        raise PermissionDenied(_("The dashboard is for supervisors, leadership and admins."))
    english = selectors.is_english()
    language = "en" if english else "ar"
    today = timezone.localdate()
    municipalities = visible_to(Municipality.objects.filter(kind=Municipality.Kind.BALADIYA), user=user, field="id")
    scope = scope_for(user)
    context = {
        "municipalities": [(m.id, localized_name(m, language)) for m in municipalities.order_by("code")],
        "categories": [(c.id, localized_name(c, language)) for c in Category.objects.order_by("code")],
        "checklists": [
            (c.id, localized_name(c, language)) for c in Checklist.objects.filter(is_active=True).order_by("code")
        ],
        "default_from": (today - timedelta(days=365)).isoformat(),
        "default_to": today.isoformat(),
        "today": today,
        "today_hijri": selectors.hijri_label(today),
        "hijri_table": calendar.hijri_table(language="en" if english else "ar"),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "role_label": _role_label(scope),
        "strings": {
            "visits": _("Visits"),
            "violating": _("Violating"),
            "rate": _("Rate"),
            "interval": _("95% interval"),
            "no_data": _("No completed visits match these filters."),
            "no_overdue": _("No open findings are past their due date."),
            "days_overdue": _("days overdue"),
            "cell": _("H3 cell"),
            "loading": _("Loading…"),
            "error": _("The figures could not be loaded."),
            "trend_rate": _("Violation rate"),
            "trend_visits": _("Completed visits"),
            "severity": {"minor": _("Minor"), "major": _("Major"), "critical": _("Critical")},
            "show_all": _("Show all"),
            "showing": _("Showing"),
            "of": _("of"),
            "points": _("percentage points"),
            "bad_range": _("'from' must not be after 'to'."),
            "filter_error": _("These filters were not applied:"),
            "drill": _("One municipality:"),
            "no_hijri": _("The 'To' date is outside the Hijri calendar's table."),
            "choose": _("Show this municipality"),
            "outcome": {value: str(label) for value, label in Visit.Outcome.choices},
            "no_visits": _("No visits match these filters."),
            "show_more": _("Show 20 more"),
            "bad_link": _(
                "this link's filters name a municipality, category or checklist outside your scope, or a "
                "malformed date; the default view is shown."
            ),
        },
    }
    return render(request, "analytics/dashboard.html", context)
