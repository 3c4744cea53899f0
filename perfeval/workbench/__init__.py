"""The interactive workbench: explore a portfolio, drill into a project, try what-ifs and test
how robust a grade is — in JupyterLab (`perfeval lab`) or from Python.

    import perfeval.workbench as wb
    bench = wb.Workbench("项目文件夹/")   # or a portfolio workbook, or a batch output folder
    bench.portfolio, bench.project, bench.whatif, bench.robustness   # display each panel
"""

from perfeval.workbench.portfolio import Filters, Portfolio, apply_filters, load_portfolio
from perfeval.workbench.robustness import alternatives, weight_monte_carlo
from perfeval.workbench.whatif import Scenario, save_scenario

__all__ = [
    "Filters",
    "Portfolio",
    "Scenario",
    "Workbench",
    "alternatives",
    "apply_filters",
    "load_portfolio",
    "save_scenario",
    "weight_monte_carlo",
]


def __getattr__(name: str) -> object:
    # the widgets pull in ipywidgets and matplotlib; load them only when asked for
    if name == "Workbench":
        from perfeval.workbench.widgets import Workbench

        return Workbench
    raise AttributeError(name)
