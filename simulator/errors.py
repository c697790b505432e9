"""Error types of the core.

Every problem a user can cause (a bad design file, a broken rubric, an unknown
scenario) becomes a ``Problem`` with a location and a message they can act on.
A ``SimulatorError`` carries one or more problems; the CLI prints them as
``file:line:column: message`` and pages show them as text, never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        elif self.line:
            where = f"line {self.line}: "
        return where + self.message


class SimulatorError(Exception):
    """Base error of the core: a list of located problems."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def first(self) -> Problem:
        return self.problems[0]


class InputError(SimulatorError):
    """A file or text that cannot be read as YAML/JSON, or is too large."""


class MalformedInput(InputError):
    """Text that is not valid YAML/JSON at all (as opposed to valid but refused for a limit)."""


class DesignError(SimulatorError):
    """A design that breaks the design-file contract."""


class RubricError(SimulatorError):
    """A rubric that cannot be loaded (unknown kind, operator or field...)."""


class ScenarioError(SimulatorError):
    """A scenario that cannot be loaded, or an unknown scenario id."""


class StoreError(SimulatorError):
    """A problem with the attempts store: unknown attempt, bad import file, bad value, unusable database."""
