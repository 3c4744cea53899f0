"""Satisfaction surveys: raw questionnaire answers → screened responses → 满意度 per indicator (value, n,
95% margin) → the project's 实际完成值, with findings for stated figures the survey does not support.

    from perfeval.survey import run_survey, apply_survey
    result = run_survey("answers.xlsx", "mapping.toml")      # SheetError lists every located problem
    result.indicators, result.items, result.excluded           # per indicator / per item / excluded responses
    applied = apply_survey(project, result)                    # applied.project, applied.findings, applied.table
"""

from perfeval.survey.answers import Answers, read_answers
from perfeval.survey.apply import SurveyApplication, apply_survey
from perfeval.survey.compute import SurveyResult, compute, run_survey
from perfeval.survey.mapping import ItemSpec, SurveyMapping, load_mapping, mapping_from_dict
from perfeval.survey.screen import REASONS, Screening, screen

__all__ = [
    "REASONS", "Answers", "ItemSpec", "Screening", "SurveyApplication", "SurveyMapping", "SurveyResult",
    "apply_survey", "compute", "load_mapping", "mapping_from_dict", "read_answers", "run_survey", "screen",
]
