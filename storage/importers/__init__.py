"""Importers: CSV files in the contract's format (and, later, EPCIS documents)."""

from storage.importers.report import FileReport, ImportReport, Rejection

__all__ = ["FileReport", "ImportReport", "Rejection"]
