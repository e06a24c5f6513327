"""Array aliases used in kernel signatures."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
AnyArray = npt.NDArray[Any]

__all__ = ["AnyArray", "BoolArray", "FloatArray", "IntArray"]
