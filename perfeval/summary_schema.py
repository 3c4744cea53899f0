"""summary.xlsx as the batch writes it and the workbench reads it: one schema for both.

`perfeval.batch.summary` writes each column under its `HEADERS` name; `perfeval.workbench.portfolio` reads
a column under that name or any older or hand-made spelling in `ACCEPTED` (so a summary from an earlier
perfeval, or one typed by hand, still loads). Pure data, no imports from the rest of perfeval.
"""

from __future__ import annotations

SUMMARY_XLSX = "summary.xlsx"
#: sheet names
PROJECTS_SHEET = "项目汇总"
DETAIL_SHEET = "指标明细"
FINDINGS_SHEET = "核查发现"
FAILED_SHEET = "失败项目"

#: 项目汇总: column -> the header the batch writes
HEADERS: dict[str, str] = {
    "id": "项目编号", "name": "项目名称", "department": "主管部门", "unit": "实施单位", "year": "年度",
    "scheme": "评价方案", "total": "总分", "grade": "等级",
    "budget": "预算数（万元）", "allocated": "到位数（万元）", "spent": "执行数（万元）",
    "execution_rate": "预算执行率", "arrival_rate": "资金到位率", "deviation_rate": "偏差率",
    "errors": "错误", "warnings": "警告", "infos": "提示",  # finding counts per project
    "status": "状态", "reason": "失败原因", "field_data": "现场数据", "file": "来源文件",
}
#: a level's score column: '决策得分'
LEVEL_SUFFIX = "得分"
#: 项目汇总 columns of links to each project's reports, one per format (relative to DIR)
REPORT_COLUMNS = {"html": "报告（HTML）", "pdf": "报告（PDF）", "docx": "报告（Word）", "ipynb": "报告（笔记本）"}

#: spellings read besides the written header (earlier versions, hand-made summaries)
OLDER_SPELLINGS: dict[str, tuple[str, ...]] = {
    "id": ("项目代码",), "department": ("主管单位",), "unit": ("项目单位",), "year": ("评价年度",),
    "scheme": ("评价方式",), "total": ("得分", "综合得分"), "grade": ("绩效等级", "评价等级"),
    "execution_rate": ("执行率",), "arrival_rate": ("到位率",),
    "budget": ("预算数", "预算数(万元)"), "allocated": ("到位数", "到位数(万元)"), "spent": ("执行数", "执行数(万元)"),
    "errors": ("错误数", "错误项", "核查错误"), "warnings": ("警告数", "警告项", "核查警告"),
    "infos": ("提示数", "提示项"), "file": ("文件", "源文件", "输入文件", "文件名"),
}


def accepted(column: str) -> tuple[str, ...]:
    """The spellings a reader takes for `column`, the written header first."""
    return (HEADERS[column], *OLDER_SPELLINGS.get(column, ()))


def level_header(level: str) -> str:
    return f"{level}{LEVEL_SUFFIX}"


#: 核查发现 and 失败项目 as written
FINDINGS_HEADERS: dict[str, str] = {"id": "项目编号", "severity": "级别", "code": "代码", "message": "内容",
                                    "where": "出处"}
FINDINGS_OLDER: dict[str, tuple[str, ...]] = {"code": ("类别", "编码"), "severity": ("严重程度", "严重性"),
                                              "message": ("说明", "发现", "问题", "核查发现"), "where": ("位置",)}
FAILED_HEADERS: dict[str, str] = {"id": "项目编号", "name": "项目名称", "year": "年度", "file": "文件",
                                  "stage": "阶段", "reason": "原因", "notebook": "执行记录"}
