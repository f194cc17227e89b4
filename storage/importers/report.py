"""What an import did: counts per file and every rejected row with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FileReport", "ImportReport", "Rejection"]


@dataclass(frozen=True)
class Rejection:
    """One row that was not loaded, and why.

    Example:
        >>> str(Rejection("lots.csv", 12, "unknown item 'SKU-9'"))
        "lots.csv:12: unknown item 'SKU-9'"
    """

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class FileReport:
    """Counts for one file; ``rows`` is every data row read."""

    file: str
    table: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    # Lots whose facts this file may have changed; None means any lot.
    touched: set[int] | None = field(default_factory=set, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "table": self.table,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class ImportReport:
    """The report of one import run, file by file in load order."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rejected(self) -> list[Rejection]:
        return [rejection for report in self.files for rejection in report.rejected]

    alerts: int = 0
    events: int = 0  # EPCIS events loaded
    skipped_events: int = 0  # EPCIS events seen before
    warnings: list[str] = field(default_factory=list)
    """What was recorded but not traced (an EPCIS identifier that names no goods, a
    party no event named), each at its JSON path."""

    @property
    def touched(self) -> set[int] | None:
        """Lots the changed files touched (None: any lot), for the rules to check."""
        found: set[int] = set()
        for report in self.files:
            if not (report.inserted or report.updated):
                continue
            if report.touched is None:
                return None
            found |= report.touched
        return found

    @property
    def changed(self) -> int:
        return sum(report.inserted + report.updated for report in self.files)

    def as_dict(self) -> dict[str, object]:
        return {
            "files": [report.as_dict() for report in self.files],
            "alerts": self.alerts,
            "events": self.events,
            "skipped_events": self.skipped_events,
            "warnings": list(self.warnings),
            "rejected": [
                {"file": r.file, "line": r.line, "reason": r.reason} for r in self.rejected
            ],
        }
