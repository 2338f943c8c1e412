"""Territorial planning: SNAI classes, marginality index, underserved valleys, siting, what-if.

Submodules are imported on demand (nothing heavy happens at import time):
:mod:`.snai`, :mod:`.marginality`, :mod:`.clusters`, :mod:`.siting`,
:mod:`.scenarios`, :mod:`.report`; :func:`run_plan` runs them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from territorio._lazy import lazy_attributes
from territorio.planning.config import PlanConfig

if TYPE_CHECKING:
    from territorio.planning.run import run_plan

__all__ = ["PlanConfig", "run_plan"]


__getattr__ = lazy_attributes(__name__, {"run_plan": "territorio.planning.run"})
