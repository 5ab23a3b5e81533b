"""The kinds of alert and their texts, through gettext (Arabic in locale/ar).

A notification is rendered in its *recipient's* language (Membership.language), whatever language
the request that caused it used, and it is rendered once, when the outbox row is written, so the
inbox shows exactly what the phone was sent. Placeholders are `str.format` fields filled from the
event's context.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

DEFAULT_LANGUAGE = "ar"


class Kind(models.TextChoices):
    """`Notification.kind` of the inspection alerts (the app reads it from the payload too)."""

    ROUND_ASSIGNED = "round_assigned", _("Round assigned")
    ROUND_CHANGED = "round_changed", _("Round changed")
    ROUND_CANCELLED = "round_cancelled", _("Round cancelled")
    ROUND_REMINDER = "round_reminder", _("Today's round")
    STOPS_OPEN = "stops_open", _("Stops still open")
    CRITICAL_FINDING = "critical_finding", _("Critical finding")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up due")
    WEEKLY_SUMMARY = "weekly_summary", _("Weekly summary")
    VISIT_RETURNED = "visit_returned", _("Visit returned")


@dataclass(frozen=True)
class Text:
    title: str
    body: str


# One entry per message (a kind, or a variant such as round_unassigned): title and body, in English.
MESSAGES = {
    "round_assigned": (
        pgettext_lazy("push title", "New inspection round"),
        pgettext_lazy("push body", "You have a round on {date} in {municipality}: {stops} stops."),
    ),
    "round_changed": (
        pgettext_lazy("push title", "Round updated"),
        pgettext_lazy("push body", "Your round on {date} in {municipality} was changed ({changes})."),
    ),
    "round_follow_ups_added": (
        pgettext_lazy("push title", "Round updated"),
        pgettext_lazy(
            "push body",
            "Your round on {date} in {municipality}: {count} follow-up visit(s) added today ({stops} stops).",
        ),
    ),
    "round_unassigned": (
        pgettext_lazy("push title", "Round reassigned"),
        pgettext_lazy("push body", "Your round on {date} in {municipality} was given to another inspector."),
    ),
    "round_cancelled": (
        pgettext_lazy("push title", "Round cancelled"),
        pgettext_lazy("push body", "Your round on {date} in {municipality} was cancelled."),
    ),
    "round_reminder": (
        pgettext_lazy("push title", "Today's round"),
        pgettext_lazy("push body", "Good morning: {stops} stops are waiting for you today in {municipality}."),
    ),
    "stops_open": (
        pgettext_lazy("push title", "Stops still open"),
        pgettext_lazy(
            "push body", "{inspector}'s round of {date} in {municipality} ended with {open} of {stops} stops open."
        ),
    ),
    "critical_finding": (
        pgettext_lazy("push title", "Critical finding"),
        pgettext_lazy("push body", "Critical violation at {establishment} ({municipality}): {item}."),
    ),
    "critical_finding_repeated": (
        pgettext_lazy("push title", "Critical violation repeated"),
        pgettext_lazy(
            "push body",
            "Critical violation found again at {establishment} ({municipality}): {item}. "
            "Failed {times} times while open.",
        ),
    ),
    "follow_up_due": (
        pgettext_lazy("push title", "Follow-ups due"),
        pgettext_lazy("push body", "{count} follow-up visit(s) are due today."),
    ),
    "visit_returned": (
        pgettext_lazy("push title", "Visit returned"),
        pgettext_lazy("push body", "Your visit to {establishment} on {date} was returned: {reason}"),
    ),
    "weekly_summary": (
        pgettext_lazy("push title", "Weekly summary"),
        pgettext_lazy(
            "push body",
            "Last 7 days: {visits} visits, {violations} with violations, {opened} findings opened, "
            "{open_critical} critical still open.",
        ),
    ),
}

# Words that appear inside bodies (the list of what changed in a round).
CHANGE_WORDS = {
    "date": pgettext_lazy("round change", "date"),
    "stops": pgettext_lazy("round change", "stops"),
    "stops_added": pgettext_lazy("round change", "stops added"),
    "stops_removed": pgettext_lazy("round change", "stops removed"),
    "follow_up_added": pgettext_lazy("round change", "follow-up visit added"),
    "reordered": pgettext_lazy("round change", "route order"),
    "optimized": pgettext_lazy("round change", "route order"),
    "status": pgettext_lazy("round change", "status"),
    "checklist": pgettext_lazy("round change", "checklist"),
    "notes": pgettext_lazy("round change", "notes"),
    "inspector": pgettext_lazy("round change", "inspector"),
}
OTHER_CHANGE = pgettext_lazy("round change", "details")
LIST_SEPARATOR = pgettext_lazy("list separator", ", ")


def language_or_default(language: str | None) -> str:
    return language if language in dict(settings.LANGUAGES) else DEFAULT_LANGUAGE


def render(message: str, language: str, **context) -> Text:
    """The title and body of `message` in `language` (Arabic when the language is unknown)."""
    title, body = MESSAGES[message]
    with translation.override(language_or_default(language)):
        return Text(title=str(title).format(**context), body=str(body).format(**context))


def change_words(changes, language: str) -> str:
    """'date, stops' (or 'التاريخ، المنشآت') from a changes dict or list of field names."""
    with translation.override(language_or_default(language)):
        words: list[str] = []
        for name in list(changes or []):
            word = str(CHANGE_WORDS.get(str(name), OTHER_CHANGE))
            if word not in words:
                words.append(word)
        return str(LIST_SEPARATOR).join(words or [str(OTHER_CHANGE)])
