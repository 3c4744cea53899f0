"""From a file to a validated `Project`: everything that reads or writes indicator sheets.

Modules: `read` (.xlsx / .csv into raw grids, header rows, accepted sheet and column names), `xlsx_guard`
(bounded pre-scan of an .xlsx), `cells` (column helpers), `info` (项目信息), `indicators` (指标, checked column by
column), `stated` (报告数值 and 文字), `placeholders` (template texts left unfilled), `layouts/` (tables as they
come: 自评表, published 评分表), `inputs` (which files are inputs), `field_data` (expert sheets and survey kept
beside a project, read and merged at this level), `load` (`load_project`, `load_projects`, `read_projects`,
`validate_paths`) and `write` (`save_project`, `save_portfolio`, `write_template`).

Sheets sit above the shared basics and below scoring: nothing here imports `perfeval.scoring` except where
docs/architecture.md lists it (tests/test_layout.py holds the list).
"""
