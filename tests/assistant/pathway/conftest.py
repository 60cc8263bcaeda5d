"""Session fixtures for the pathway tests: the packaged book and the exhaustive patient enumeration."""

from __future__ import annotations

import pytest

from ally.schema import Patient
from assistant.pathway.models import PathwayBook
from assistant.resources import load_pathway_book

from .cases import Outcome, enumerate_cases


@pytest.fixture(scope="session")
def book() -> PathwayBook:
    return load_pathway_book()


@pytest.fixture(scope="session")
def cases(book: PathwayBook) -> tuple[list[Patient], list[Outcome]]:
    return enumerate_cases(book)


@pytest.fixture(scope="session")
def patients(cases: tuple[list[Patient], list[Outcome]]) -> list[Patient]:
    return cases[0]


@pytest.fixture(scope="session")
def outcomes(cases: tuple[list[Patient], list[Outcome]]) -> list[Outcome]:
    return cases[1]
