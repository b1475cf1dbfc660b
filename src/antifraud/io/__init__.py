"""Writing outputs safely: atomic files and spreadsheet-safe CSV."""

from antifraud.io.atomic import atomic_path, write_json, write_jsonl, write_text
from antifraud.io.canonical import canonical_bytes
from antifraud.io.csv import csv_bytes, escape_formulas, write_csv

__all__ = ["atomic_path", "canonical_bytes", "csv_bytes", "escape_formulas", "write_csv", "write_json", "write_jsonl", "write_text"]
