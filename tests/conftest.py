"""Shared fixtures: the ECSI model, the mobi data and a small company-survey model."""

from __future__ import annotations

import pandas as pd
import pytest

import csisem
from csisem.models import Model

# A three-construct company-survey model for the per-group fit and aggregation tests.
MINI_SPEC = """\
name: mini
scale: [1, 10]
constructs:
  QUAL:
    label: Perceived quality
    indicators: [QUAL1, QUAL2, QUAL3]
  CUSA:
    label: Customer satisfaction
    indicators: [CUSA1, CUSA2, CUSA3]
  LOY:
    label: Customer loyalty
    indicators: [LOY1, LOY2]
paths:
  CUSA: [QUAL]
  LOY: [CUSA]
"""


@pytest.fixture(scope="session")
def mini_spec() -> str:
    """YAML text of the small company-survey model."""
    return MINI_SPEC


@pytest.fixture(scope="session")
def mini(mini_spec: str) -> Model:
    """The small company-survey model."""
    return csisem.parse_spec(mini_spec)


@pytest.fixture(scope="session")
def ecsi() -> Model:
    return csisem.load_model("ecsi")


@pytest.fixture
def mobi() -> pd.DataFrame:
    return csisem.datasets.load_mobi()
