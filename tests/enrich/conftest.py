"""The built-in datasets, loaded once for the session (a few seconds and ~200 MB)."""

from __future__ import annotations

import pytest

from yapdns.enrich.asnumbers import AsNumberDataset
from yapdns.enrich.builtin import BuiltinDataset
from yapdns.enrich.countries import CountryDataset


@pytest.fixture(scope="session")
def builtin() -> BuiltinDataset:
    return BuiltinDataset()


@pytest.fixture(scope="session")
def as_numbers() -> AsNumberDataset:
    return AsNumberDataset()


@pytest.fixture(scope="session")
def countries() -> CountryDataset:
    return CountryDataset()
