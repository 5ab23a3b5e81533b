"""The push message catalogue: title and body of every notification kind in Arabic and English.

Written here rather than through gettext because a notification is rendered in its *recipient's*
language (Membership.language), whatever language the request that caused it used, and it is
rendered once, when the outbox row is written, so the inbox shows exactly what the phone was sent.
Placeholders are `str.format` fields filled from the event's context.
"""

from dataclasses import dataclass

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"


@dataclass(frozen=True)
class Text:
    title: str
    body: str


CATALOGUE: dict[str, dict[str, Text]] = {
    "round_assigned": {
        "en": Text("New inspection round", "You have a round on {date} in {municipality}: {stops} stops."),
        "ar": Text("جولة رقابية جديدة", "لديك جولة يوم {date} في {municipality}: {stops} منشآت."),
    },
    "round_changed": {
        "en": Text("Round updated", "Your round on {date} in {municipality} was changed ({changes})."),
        "ar": Text("تعديل جولة", "تم تعديل جولتك يوم {date} في {municipality} ({changes})."),
    },
    "round_follow_ups_added": {
        "en": Text(
            "Round updated",
            "Your round on {date} in {municipality}: {count} follow-up visit(s) added today ({stops} stops).",
        ),
        "ar": Text(
            "تعديل جولة",
            "جولتك يوم {date} في {municipality}: أُضيفت اليوم {count} زيارة متابعة ({stops} منشآت).",
        ),
    },
    "round_unassigned": {
        "en": Text("Round reassigned", "Your round on {date} in {municipality} was given to another inspector."),
        "ar": Text("إعادة إسناد جولة", "أُسندت جولتك يوم {date} في {municipality} إلى مراقب آخر."),
    },
    "round_cancelled": {
        "en": Text("Round cancelled", "Your round on {date} in {municipality} was cancelled."),
        "ar": Text("إلغاء جولة", "أُلغيت جولتك يوم {date} في {municipality}."),
    },
    "round_reminder": {
        "en": Text("Today's round", "Good morning: {stops} stops are waiting for you today in {municipality}."),
        "ar": Text("جولة اليوم", "صباح الخير: لديك {stops} منشآت لزيارتها اليوم في {municipality}."),
    },
    "stops_open": {
        "en": Text(
            "Stops still open",
            "{inspector}'s round of {date} in {municipality} ended with {open} of {stops} stops open.",
        ),
        "ar": Text(
            "منشآت لم تُزر",
            "انتهت جولة {inspector} يوم {date} في {municipality} وبقيت {open} من {stops} منشآت دون زيارة.",
        ),
    },
    "critical_finding": {
        "en": Text("Critical finding", "Critical violation at {establishment} ({municipality}): {item}."),
        "ar": Text("مخالفة حرجة", "مخالفة حرجة في {establishment} ({municipality}): {item}."),
    },
    "follow_up_due": {
        "en": Text("Follow-ups due", "{count} follow-up visit(s) are due today."),
        "ar": Text("زيارات متابعة مستحقة", "لديك {count} زيارة متابعة مستحقة اليوم."),
    },
    "weekly_summary": {
        "en": Text(
            "Weekly summary",
            "Last 7 days: {visits} visits, {violations} with violations, {opened} findings opened, "
            "{open_critical} critical still open.",
        ),
        "ar": Text(
            "الملخص الأسبوعي",
            "آخر ٧ أيام: {visits} زيارة، {violations} منها بمخالفات، {opened} مخالفة جديدة، "
            "{open_critical} مخالفة حرجة ما زالت مفتوحة.",
        ),
    },
}

# Words that appear inside bodies (the list of what changed in a round).
CHANGE_WORDS: dict[str, dict[str, str]] = {
    "date": {"en": "date", "ar": "التاريخ"},
    "stops": {"en": "stops", "ar": "المنشآت"},
    "stops_added": {"en": "stops added", "ar": "إضافة منشآت"},
    "stops_removed": {"en": "stops removed", "ar": "حذف منشآت"},
    "follow_up_added": {"en": "follow-up visit added", "ar": "إضافة زيارة متابعة"},
    "reordered": {"en": "route order", "ar": "ترتيب المسار"},
    "optimized": {"en": "route order", "ar": "ترتيب المسار"},
    "status": {"en": "status", "ar": "الحالة"},
    "checklist": {"en": "checklist", "ar": "قائمة الفحص"},
    "notes": {"en": "notes", "ar": "الملاحظات"},
    "inspector": {"en": "inspector", "ar": "المراقب"},
    "_other": {"en": "details", "ar": "التفاصيل"},
}


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def render(kind: str, language: str, **context) -> Text:
    """The title and body of `kind` in `language` (Arabic when the language is unknown)."""
    text = CATALOGUE[kind][language_or_default(language)]
    return Text(title=text.title.format(**context), body=text.body.format(**context))


def change_words(changes, language: str) -> str:
    """'date, stops' (or 'التاريخ، المنشآت') from a changes dict or list of field names."""
    language = language_or_default(language)
    names = list(changes or [])
    words = []
    for name in names:
        word = CHANGE_WORDS.get(str(name), CHANGE_WORDS["_other"])[language]
        if word not in words:
            words.append(word)
    if not words:
        words = [CHANGE_WORDS["_other"][language]]
    return ("، " if language == "ar" else ", ").join(words)
