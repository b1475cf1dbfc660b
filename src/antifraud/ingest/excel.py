"""Excel workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) read as text, row by row.

A workbook is read with `python-calamine <https://github.com/dimastbk/python-calamine>`_ (the
Rust ``calamine`` reader), one worksheet at a time, and every cell becomes text the way the
other formats give it, so that one set of converters checks every export:

- a text cell is kept as written, so an id stored as text (the safe form) keeps every digit;
- a number is written with Excel's own 15 significant digits (``format(value, ".15G")``): an
  integer of up to 15 digits (a phone, a 14-digit tracking number) comes back whole, while an
  18-digit order id that Excel stored as a number has already lost its last digits and comes
  back as ``3.80012345678901E+17``, which ingest quarantines as ``excel_number``;
- a date or time is written in ISO 8601 (``2024-11-01 09:05:00``), a boolean as ``TRUE`` or
  ``FALSE``, and an empty cell is missing.

Row numbers are the sheet's own (the header is usually row 1), so a quarantined row can be found
in Excel by its number. Rows with no value at all are skipped, as blank lines are in CSV.

Examples
--------
>>> cell_text(3.80012345678901e17), cell_text(13812341234.0), cell_text(12.5), cell_text("")
('3.80012345678901E+17', '13812341234', '12.5', None)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from antifraud.ingest.errors import InputError

__all__ = ["EXCEL_SUFFIXES", "Sheet", "cell_text", "open_sheet"]

#: File names read as Excel workbooks.
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def cell_text(value: object) -> str | None:
    """One cell's value as the text an export would hold (``None`` for an empty cell)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15G")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return None if value is None else str(value)


class Sheet:
    """The worksheet of a workbook that holds the export; use :func:`open_sheet`.

    Attributes
    ----------
    name : str
        The worksheet's name.
    header : list of str
        The first row with a value, as text (blank headers as ``""``).
    header_row : int
        Its row number in the sheet (1-based).
    height : int
        Rows in the sheet, counting from row 1.
    """

    def __init__(self, path: Path, sheet: object) -> None:
        self.path = path
        self._sheet = sheet
        self.name: str = sheet.name
        self.height: int = sheet.total_height
        self.header_row = 0
        self.header: list[str] = []
        for number, row in self._rows():
            self.header_row, self.header = number, [cell_text(v) or "" for v in row]
            break
        if not self.header:
            raise InputError(path, f"the worksheet {self.name!r} is empty")

    def _rows(self) -> Iterator[tuple[int, list]]:
        """``(row number, cells)`` for every row that holds a value."""
        try:
            for index, row in enumerate(self._sheet.iter_rows()):
                if any(v != "" for v in row):
                    yield index + 1, row
        except Exception as exc:  # calamine raises its own error types for damaged cells
            raise InputError(self.path, f"cannot read the worksheet {self.name!r}: {exc}") from exc

    def rows(self, columns: list[int], size: int) -> Iterator[tuple[list[int], list[pa.Array]]]:
        """The data rows after the header, ``size`` at a time: their row numbers and, for each of
        ``columns`` (positions in the header), the cells as text (:func:`cell_text`)."""
        numbers: list[int] = []
        cells: list[list] = [[] for _ in columns]
        for number, row in self._rows():
            if number <= self.header_row:
                continue
            numbers.append(number)
            for out, position in zip(cells, columns):
                out.append(row[position] if position < len(row) else "")
            if len(numbers) == size:
                yield numbers, [_text(column) for column in cells]
                numbers, cells = [], [[] for _ in columns]
        if numbers:
            yield numbers, [_text(column) for column in cells]


def _text(values: list) -> pa.Array:
    """Cells as :func:`cell_text` gives them, in one Arrow call where every cell is text."""
    if all(type(v) is str for v in values):
        text = pa.array(values, pa.string())
        return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pa.array([cell_text(v) for v in values], pa.string())


def open_sheet(path: Path) -> Sheet:
    """The first visible worksheet of the workbook at ``path`` that holds a value.

    Raises
    ------
    InputError
        The file is not a workbook calamine can read, or no worksheet holds a value.
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's errors share no public base class
        raise InputError(path, f"cannot read the file as an Excel workbook: {exc}") from exc
    visible = [m.name for m in book.sheets_metadata
               if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet]
    for name in visible:
        sheet = book.get_sheet_by_name(name)
        if sheet.height:
            return Sheet(path, sheet)
    raise InputError(path, "no worksheet of the workbook holds a value")
