"""rich tables for the static measurements (`fdbench loc`, `fdbench footprint`), drawn from the
same rows as the HTML report (static_rows.py)."""
from rich.table import Table

from . import rows as static_rows


def to_rich(rows: static_rows.Rows) -> Table:
    table = Table(title=rows.title, caption=rows.note or None)
    for i, column in enumerate(rows.header):
        table.add_column(column, justify="right" if i in rows.numeric else "left")
    for i, row in enumerate(rows.rows):
        table.add_row(*row, style="bold" if i in rows.bold else None)
    return table


def loc_tables(result) -> list[Table]:
    return [to_rich(r) for r in static_rows.loc_rows(result)]


def footprint_tables(result) -> list[Table]:
    return [to_rich(r) for r in static_rows.footprint_rows(result)]
