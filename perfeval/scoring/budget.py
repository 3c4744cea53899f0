"""Budget execution: 预算执行率, 资金到位率, 偏差率 (domain notes §3.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Budget:
    """Amounts in 万元; rates as fractions (0.956, not 95.6)."""

    budget: float
    allocated: float
    spent: float
    execution_rate: float
    arrival_rate: float
    deviation_rate: float
    denominator: str = "budget"
    funding: dict[str, float] = field(default_factory=dict)

    @property
    def denominator_label(self) -> str:
        return "到位数" if self.denominator == "allocated" else "预算数"


def rates(budget: np.ndarray, allocated: np.ndarray, spent: np.ndarray,
          denominator: str = "budget") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(execution_rate, arrival_rate, deviation_rate), vectorised over projects.

    预算执行率 = 执行数 / 预算数 (self-evaluation table B/A) or / 到位数 (10号 framework);
    资金到位率 = 到位数 / 预算数; budget 偏差率 = 1 − 预算执行率. A zero denominator gives NaN.
    """
    budget, allocated, spent = (np.asarray(x, dtype=float) for x in (budget, allocated, spent))
    base = allocated if denominator == "allocated" else budget
    with np.errstate(divide="ignore", invalid="ignore"):
        execution = np.where(base > 0, spent / base, np.nan)
        arrival = np.where(budget > 0, allocated / budget, np.nan)
    return execution, arrival, 1.0 - execution
