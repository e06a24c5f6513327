"""The arrays a PLS model is made of, derived once from a :class:`Model`.

Shapes follow the legend in :mod:`csisem.estimation.pls`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .._typing import BoolArray, IntArray
from ..models.model import Mode, Model
from .pls import KernelPlan, kernel_plan

__all__ = ["PLSDesign"]


@dataclass(frozen=True, eq=False)
class PLSDesign:
    """Block membership ``M`` (J×K), structure ``D`` (K×K, ``D[target, source]``), modes.

    ``owner[j]`` is the construct index of indicator ``j``; ``reflective[k]`` marks common
    factors (corrected by PLSc); ``mode_b[k]`` marks Mode B composites.
    """

    names: tuple[str, ...]
    indicators: tuple[str, ...]
    M: BoolArray
    D: BoolArray
    mode_b: BoolArray
    reflective: BoolArray
    owner: IntArray

    @classmethod
    def from_model(cls, model: Model) -> PLSDesign:
        """The design of ``model`` (indicators in model order, block by block)."""
        names = model.construct_names
        indicators = model.indicator_names
        owner = np.array([names.index(model.construct_of[i]) for i in indicators])
        M = np.zeros((len(indicators), len(names)), dtype=bool)
        M[np.arange(len(indicators)), owner] = True
        D = model.structural_matrix().to_numpy().astype(bool)
        mode_b = np.array([c.mode is Mode.COMPOSITE_B for c in model.constructs])
        reflective = np.array([c.mode is Mode.REFLECTIVE for c in model.constructs])
        for arr in (M, D, mode_b, reflective, owner):
            arr.setflags(write=False)
        return cls(names=names, indicators=indicators, M=M, D=D, mode_b=mode_b,
                   reflective=reflective, owner=owner)

    @classmethod
    def of(cls, model: Model) -> PLSDesign:
        """:meth:`from_model`, computed once per model object (models are immutable)."""
        return model.derived("pls_design", cls.from_model)

    @cached_property
    def plan(self) -> KernelPlan:
        """The index arrays of one PLS iteration for this design (see ``pls.KernelPlan``)."""
        return kernel_plan(self.M, self.mode_b, self.D)

    def block(self, k: int) -> IntArray:
        """Indicator positions of construct ``k``."""
        return np.flatnonzero(self.M[:, k])

    def predecessors(self, k: int) -> IntArray:
        """Construct positions with a path into construct ``k``."""
        return np.flatnonzero(self.D[k])
