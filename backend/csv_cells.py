"""CSV formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with = + - @,
a tab or a carriage return as a formula (`=HYPERLINK(...)` in an establishment's name). Such text cells
get a leading apostrophe, which spreadsheets show as text and drop. Only text columns are touched:
Arabic text starts with none of these characters, and a negative number in a numeric column
(`lon = -0.12`) stays a number."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text_cell(value):
    """`value` safe for a spreadsheet (text only; anything else is returned as is)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text_cell_sql(column: str) -> str:
    """The same rule as a PostgreSQL expression over a text `column` (for COPY ... TO STDOUT).

    The first character's code point (`ascii()`, 0 for an empty string) against integers: no
    substring is built and no text compared, which matters a million rows at a time."""
    codes = ", ".join(str(ord(c)) for c in FORMULA_STARTS)
    return f"CASE WHEN ascii({column}) IN ({codes}) THEN '''' || {column} ELSE {column} END"
