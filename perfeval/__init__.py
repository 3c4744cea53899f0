"""perfeval — a Jupyter workbench for 财政项目支出绩效评价 (fiscal project-expenditure performance evaluation).

Data flows one way: sheet → validated `Project` → `Evaluation` → views and exports.
"""

from perfeval import _compat  # noqa: F401  (first: installs the old module paths, perfeval.validate …)
from perfeval._version import __version__
from perfeval.errors import PerfevalError, Problem, SchemeError, SheetError
from perfeval.model import Project
from perfeval.scheme import Scheme, ScoringOptions, load_scheme
from perfeval.scoring.evaluate import Evaluation, evaluate, evaluate_frames, evaluate_many
from perfeval.scoring.tidy import PortfolioResult, evaluate_portfolio
from perfeval.sheets.load import load_project, load_projects, read_projects, validate_paths

__all__ = [
    "Evaluation",
    "PerfevalError",
    "PortfolioResult",
    "Problem",
    "Project",
    "Scheme",
    "SchemeError",
    "ScoringOptions",
    "SheetError",
    "__version__",
    "evaluate",
    "evaluate_frames",
    "evaluate_many",
    "evaluate_portfolio",
    "load_project",
    "load_projects",
    "load_scheme",
    "read_projects",
    "validate_paths",
]
