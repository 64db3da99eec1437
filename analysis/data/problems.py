"""One data problem, printed as ``FILE:ROW:COLUMN: rule: what was found``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # line number in the file; the header is line 1; 0 = the file as a whole
    column: str  # column name, or "-" for the whole row / file
    rule: str
    found: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.rule}: {self.found}"

    def sort_key(self):
        return (self.file, self.row, self.column, self.rule, self.found)


class DataError(Exception):
    """Raised when data/raw/ does not validate; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))
