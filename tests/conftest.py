"""Shared fixtures: the ECSI model and the mobi data."""

from __future__ import annotations

import pandas as pd
import pytest

import csisem
from csisem.models import Model


@pytest.fixture(scope="session")
def ecsi() -> Model:
    return csisem.load_model("ecsi")


@pytest.fixture
def mobi() -> pd.DataFrame:
    return csisem.datasets.load_mobi()
