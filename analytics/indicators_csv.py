"""The indicators table as CSV: one line per group and indicator (UTF-8 with a BOM for Excel).

The first twelve columns are the ones the CSV always had, in the same order; the target's margin and
where it was set (`target_scope`: the municipality or Amanah id, empty for the national default;
`target_scope_label`: its name, or "National") follow, so a reader of the old columns still reads them.
"""

import csv
import io

from backend.csv_cells import csv_text_cell

BOM = "\ufeff".encode()
HEADER = (
    "calendar", "period", "group", "label", "indicator", "value", "ci_low", "ci_high", "numerator", "denominator",
    "target", "light", "amber_margin", "target_scope", "target_scope_label",
)  # fmt: skip
FIGURE_COLUMNS = HEADER[5:]


def indicators_csv(*, period, rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        for code, figure in row["indicators"].items():
            cells = ["" if figure[name] is None else figure[name] for name in FIGURE_COLUMNS]
            cells[-1] = csv_text_cell(cells[-1])  # a scope's name is text typed by an admin
            writer.writerow([period.calendar, period.key, row["key"], csv_text_cell(row["label"]), code, *cells])
    return BOM + buffer.getvalue().encode()
