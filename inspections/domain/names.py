"""Names in the reader's language: the one rule for every bilingual (name_ar, name_en) record."""


def localized_name(thing, language: str | None) -> str:
    """`name_en` for English readers, `name_ar` otherwise, each falling back to the other."""
    if thing is None:
        return ""
    return label(getattr(thing, "name_ar", ""), getattr(thing, "name_en", ""), language) or str(thing)


def label(name_ar: str | None, name_en: str | None, language: str | None) -> str:
    """The name for `language` ("en" or anything else, read as Arabic), falling back to the other."""
    if (language or "").startswith("en"):
        return name_en or name_ar or ""
    return name_ar or name_en or ""


def person_name(user) -> str:
    """A user as people read them: the full name, else the username (never empty)."""
    return user.get_full_name() or user.get_username()
