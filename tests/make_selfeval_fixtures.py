"""Write the 项目支出绩效自评表 fixtures in tests/data/selfeval/ (run: python3 tests/make_selfeval_fixtures.py).

Each workbook is laid out the way such tables are printed: title rows, label-value pairs across merged
cells, a funds block, the 年度总体目标 block, indicator rows with merged 一级/二级 cells, a total row,
自评等级 and footer/notes. The figures are invented but consistent unless a test says otherwise.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent / "data" / "selfeval"
NOTE = "注：1.一级指标分值统一设置为：产出指标50分、效益指标30分、满意度指标10分、预算资金执行率10分。"


def put(ws: Worksheet, row: int, col: int, value: object, span: int = 1, down: int = 1) -> None:
    """Write `value` at (row, col) and merge it over `span` columns and `down` rows."""
    ws.cell(row=row, column=col, value=value)
    if span > 1 or down > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row + down - 1, end_column=col + span - 1)


def standard_sheet(ws: Worksheet, *, name: str, code: str | None = None, total_style: str = "column",
                   output_label: str = "产出指标(50分)", grade: str = "优") -> None:
    """财预〔2020〕10号 附件2 (columns A–J). Budget 120, spent 114 (95%, 9.5 of 10); total 98.67."""
    put(ws, 1, 1, "项目支出绩效自评表", span=10)
    put(ws, 2, 1, "（2023年度）", span=10)
    put(ws, 3, 1, "项目名称")
    put(ws, 3, 2, name, span=5 if code else 9)
    if code:
        put(ws, 3, 7, "项目编号", span=2)
        put(ws, 3, 9, code, span=2)
    put(ws, 4, 1, "主管部门")
    put(ws, 4, 2, "某县人力资源和社会保障局", span=4)
    put(ws, 4, 6, "实施单位", span=2)
    put(ws, 4, 8, "某县职业技能培训中心", span=3)
    put(ws, 5, 1, "项目资金\n（万元）", down=5)
    for col, header in zip(range(3, 9), ("年初预算数", "全年预算数\n（A）", "全年执行数\n（B）", "分值",
                                         "执行率\n（B/A）", "得分"), strict=True):
        put(ws, 5, col, header, span=3 if header == "得分" else 1)
    funds = (("年度资金总额", 100, 120, 114, 10, 0.95, 9.5),
             ("其中：当年财政拨款", 100, 110, 105, "—", "—", "—"),
             ("上年结转资金", 0, 10, 9, "—", "—", "—"),
             ("其他资金", None, None, None, "—", "—", "—"))
    for i, (label, *values) in enumerate(funds):
        put(ws, 6 + i, 2, label)
        for col, value in zip(range(3, 9), values, strict=True):
            put(ws, 6 + i, col, value, span=3 if col == 8 else 1)
    put(ws, 10, 1, "年度总体目标", down=2)
    put(ws, 10, 2, "预期目标", span=4)
    put(ws, 10, 6, "实际完成情况", span=5)
    put(ws, 11, 2, "全年开展职业技能培训不少于36000人次，覆盖全县12个乡镇。", span=4)
    put(ws, 11, 6, "全年培训36500人次，覆盖11个乡镇。", span=5)
    for col, header in zip(range(2, 10), ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值",
                                          "分值", "得分", "偏差原因分析及改进措施"), strict=True):
        put(ws, 12, col, header, span=2 if col == 9 else 1)
    rows = [
        # level1, level2 (None = merged with the row above), level3, target, actual, weight, score, reason
        (output_label, "数量指标", "培训人次", "≥36000人次", "36500人次", "15", 15, None),
        (None, None, "覆盖乡镇数", "≥12个", "11个", 10, 9.17, "1个乡镇因场地未落实未开展，下年度补开"),
        (None, "质量指标", "培训合格率", "≥95%", "96%", 10, 10, None),
        (None, None, None, None, None, None, None, None),  # a blank row inside the block
        (None, "时效指标", "培训按计划完成", "按计划完成", "按时完成", 10, 10, None),
        (None, "成本指标", "人均培训成本", "≤35元", "33元", 5, 5, None),
        ("效益指标(30分)", "社会效益指标", "参训人员就业率", "≥5%", "6%", 15, 15, None),
        (None, None, "指标2：", None, None, None, None, None),  # template leftovers
        (None, None, "……", None, None, None, None, None),
        (None, "可持续影响指标", "长效培训机制", "有效提升", "有效提升", 15, 15, None),
        ("满意度指标(10分)", "服务对象满意度指标", "学员满意度", "≥90%", "92%", 10, 10, None),
    ]
    first = 13
    put(ws, 12, 1, "绩\n效\n指\n标", down=len(rows) + 1)
    merges = {2: [], 3: []}
    for i, (l1, l2, l3, target, actual, weight, score, reason) in enumerate(rows):
        r = first + i
        for col, value in ((2, l1), (3, l2)):
            if value is not None:
                merges[col].append([r, r])
                ws.cell(row=r, column=col, value=value)
            elif merges[col]:
                merges[col][-1][1] = r
        for col, value in ((4, l3), (5, target), (6, actual), (7, weight), (8, score)):
            ws.cell(row=r, column=col, value=value)
        put(ws, r, 9, reason, span=2)
    for col, spans in merges.items():
        for start, end in spans:
            if end > start:
                ws.merge_cells(start_row=start, start_column=col, end_row=end, end_column=col)
    total = first + len(rows)
    if total_style == "column":
        put(ws, total, 1, "总分", span=6)
        put(ws, total, 7, "100")
        put(ws, total, 8, 98.67)
        put(ws, total + 1, 1, "自评等级", span=2)
        put(ws, total + 1, 3, grade, span=8)
    else:  # "总分 100 … 自评得分 98.67 自评等级 优" on one row
        put(ws, total, 1, "总分", span=2)
        put(ws, total, 3, 100)
        put(ws, total, 4, "自评得分")
        put(ws, total, 5, "98.67")
        put(ws, total, 6, "自评等级", span=2)
        put(ws, total, 8, grade, span=3)
    put(ws, total + 2, 1, "填表人：张三", span=3)
    put(ws, total + 2, 4, "联系电话：0998-1234567", span=3)
    put(ws, total + 2, 7, "填报日期：2024年1月15日", span=4)
    put(ws, total + 3, 1, NOTE, span=10)


def write_standard(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "2023年度项目支出绩效自评表"
    standard_sheet(ws, name="职业技能提升培训补贴")
    wb.save(path)


def write_multi(path: Path) -> None:
    """Two projects (sheets "Sheet1" and "附件2"), an instructions sheet and a hidden stale copy."""
    wb = Workbook()
    guide = wb.active
    guide.title = "填表说明"
    guide["A1"] = "请按财预〔2020〕10号附件2填写，每个项目一张表。"
    standard_sheet(wb.create_sheet("Sheet1"), name="职业技能提升培训补贴", code="RS2023-001")
    standard_sheet(wb.create_sheet("附件2"), name="公益性岗位培训", code="RS2023-002", total_style="row",
                   grade="良")
    hidden = wb.create_sheet("旧版")
    standard_sheet(hidden, name="旧版项目", code="RS2023-001")
    hidden.sheet_state = "hidden"
    wb.save(path)


def write_bad_cell(path: Path) -> None:
    """The standard table with a 分值 that is not a number (row 14) and a target nobody can read (row 15)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    standard_sheet(ws, name="职业技能提升培训补贴")
    ws["G14"] = "十分"
    ws["E15"] = "≈95%"
    wb.save(path)


def write_variant101(path: Path) -> None:
    """101号-style: 指标性质 | 指标值 | 度量单位 columns; no 年初预算数; execution 分值 10."""
    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    put(ws, 1, 1, "2022年度项目支出绩效自评表", span=11)
    put(ws, 2, 1, "项目名称")
    put(ws, 2, 2, "城乡居民文化惠民演出", span=4)
    put(ws, 2, 6, "项目代码", span=2)
    put(ws, 2, 8, "WH-2022-017", span=4)
    put(ws, 3, 1, "主管部门")
    put(ws, 3, 2, "某市文化和旅游局", span=4)
    put(ws, 3, 6, "实施单位", span=2)
    put(ws, 3, 8, "某市文化馆", span=4)
    put(ws, 4, 1, "项目资金（万元）", span=2)
    for col, header in zip(range(3, 8), ("全年预算数", "全年执行数", "分值", "执行率", "得分"), strict=True):
        put(ws, 4, col, header)
    put(ws, 5, 1, "年度资金总额：", span=2)
    for col, value in zip(range(3, 8), (80, 72, 10, "90.00%", 9), strict=True):
        put(ws, 5, col, value)
    put(ws, 6, 1, "其中：本年财政拨款", span=2)
    put(ws, 6, 3, 80)
    put(ws, 6, 4, 72)
    headers = ("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "实际完成值", "分值", "得分",
               "偏差原因分析及改进措施")
    for col, header in enumerate(headers, start=1):
        put(ws, 8, col, header)
    rows = [
        ("产出指标(50分)", "数量指标", "演出场次", "≥", "120", "场", "118", 20, 19.67, "2场因天气取消"),
        (None, None, "观众人次", "≥", 36000, "人次", 36500, 10, 10, None),
        (None, "质量指标", "演出合格率", "＝", "100", "%", 1, 10, 10, None),
        (None, "时效指标", "演出按期完成", "定性", "按期完成", None, "按期完成", 10, 10, None),
        ("效益指标(30分)", "社会效益指标", "群众文化生活", "定性", "明显改善", None, "明显改善", 30, 30, None),
        ("满意度指标(10分)", "服务对象满意度指标", "观众满意度", "≥", "90", "%", "93", 10, 10, None),
    ]
    for i, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=9 + i, column=col, value=value)
    ws.merge_cells("A9:A12")
    ws.merge_cells("B9:B10")
    put(ws, 15, 1, "总分", span=7)
    put(ws, 15, 8, 100)
    put(ws, 15, 9, 98.67)
    put(ws, 16, 1, "说明：本表由实施单位填报。", span=10)
    wb.save(path)


def write_export(path: Path) -> None:
    """A system export: 年度指标值 split over a second header row (计算符号 | 指标值 | 计量单位), numbers as
    numbers, a percent stored as a fraction, no title but a funds header."""
    wb = Workbook()
    ws = wb.active
    ws.title = "导出"
    put(ws, 1, 1, "项目名称")
    put(ws, 1, 2, "社区卫生服务能力提升", span=3)
    put(ws, 1, 5, "主管部门")
    put(ws, 1, 6, "某区卫生健康委员会", span=2)
    put(ws, 1, 8, "实施单位")
    put(ws, 1, 9, "某区社区卫生服务中心", span=2)
    put(ws, 2, 1, "年度")
    put(ws, 2, 2, 2023)
    put(ws, 3, 1, "资金情况（万元）")
    for col, header in zip(range(2, 8), ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"),
                           strict=True):
        put(ws, 3, col, header)
    put(ws, 4, 1, "年度资金总额")
    for col, value in zip(range(2, 8), (50, 50, 40, 10, 0.8, 8), strict=True):
        put(ws, 4, col, value)
    put(ws, 6, 1, "一级指标", down=2)
    put(ws, 6, 2, "二级指标", down=2)
    put(ws, 6, 3, "三级指标", down=2)
    put(ws, 6, 4, "年度指标值", span=3)
    put(ws, 7, 4, "计算符号")
    put(ws, 7, 5, "指标值")
    put(ws, 7, 6, "计量单位")
    put(ws, 6, 7, "实际完成值", down=2)
    put(ws, 6, 8, "分值", down=2)
    put(ws, 6, 9, "得分", down=2)
    put(ws, 6, 10, "偏差原因分析及改进措施", down=2)
    rows = [
        ("产出指标", "数量指标", "家庭医生签约人次", "≥", 36000, "人次", 36500, 30, 30, None),
        (None, "质量指标", "慢病规范管理率", "≥", 90, "%", 0.93, 20, 20, None),
        ("效益指标", "社会效益指标", "居民健康素养水平", "≥", 25, "%", 26, 30, 30, None),
        ("满意度指标", "服务对象满意度指标", "居民满意度", "≥", 85, "%", 88, 10, 10, None),
    ]
    for i, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=8 + i, column=col, value=value)
    ws.merge_cells("A8:A9")
    put(ws, 12, 1, "合计", span=7)
    put(ws, 12, 8, 100)
    put(ws, 12, 9, 98)
    wb.save(path)


def write_hubei(path: Path) -> None:
    """Hubei: 预算执行情况 (20分) = 20 × 执行率, two 年度绩效目标 blocks (40分 each) without 分值."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    put(ws, 1, 1, "2020年度水土保持监测项目绩效自评表", span=7)
    put(ws, 2, 1, "单位名称：某市水土保持科研所", span=4)
    put(ws, 2, 5, "填报日期：2021年3月10日", span=3)
    put(ws, 3, 1, "项目名称")
    put(ws, 3, 2, "水土保持监测", span=2)
    put(ws, 3, 4, "主管部门")
    put(ws, 3, 5, "某市水利和湖泊局")
    put(ws, 3, 6, "项目实施单位")
    put(ws, 3, 7, "本单位")
    put(ws, 4, 1, "预算执行情况（万元）（20分）", span=3)
    for col, header in zip(range(4, 8), ("预算数（A）", "执行数（B）", "执行率（B/A）", "得分（20分*执行率）"),
                           strict=True):
        put(ws, 4, col, header)
    put(ws, 5, 1, "年度财政资金总额", span=3)
    for col, value in zip(range(4, 8), (10, 10, "100%", 20), strict=True):
        put(ws, 5, col, value)
    blocks = [
        (6, "年度绩效目标1（40分）", [("产出指标", "数量指标", "监测点位数", "≥20个", "20个", 20),
                                  ("效益指标", "社会效益指标", "监测成果应用", "有效提升", "有效提升", 20)]),
        (10, "年度绩效目标2（40分）", [("产出指标", "质量指标", "监测数据合格率", "＝100%", "100%", 10),
                                   (None, "时效指标", "资料上报及时率", "100%", "100%", 10),
                                   ("效益指标", "生态效益指标", "水土流失治理面积", "≥50公顷", "45公顷", 9),
                                   ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "95%", 10)]),
    ]
    for start, title, rows in blocks:
        put(ws, start, 1, title, down=len(rows) + 1)
        for col, header in zip(range(2, 8), ("一级指标", "二级指标", "三级指标", "年初目标值（A）",
                                             "实际完成值（B）", "得分"), strict=True):
            put(ws, start, col, header)
        for i, row in enumerate(rows):
            for col, value in enumerate(row, start=2):
                if value is not None:
                    ws.cell(row=start + 1 + i, column=col, value=value)
    put(ws, 15, 1, "总分", span=6)
    put(ws, 15, 7, 99)
    put(ws, 16, 1, "偏差大或目标未完成原因分析")
    put(ws, 16, 2, "治理面积受汛期影响未达目标", span=2)
    put(ws, 16, 4, "改进措施及结果应用方案")
    put(ws, 16, 5, "提前安排施工计划", span=3)
    put(ws, 17, 1, "备注：1.预算执行情况口径：预算数为调整后财政资金。", span=7)
    wb.save(path)


def write_weights110(path: Path) -> None:
    """A published-style table whose levels add up to 110 (产出 70 where the scheme has 50)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "绩效目标自评表"
    put(ws, 1, 1, "绩效目标自评表", span=8)
    put(ws, 2, 1, "（2022年度）", span=8)
    put(ws, 3, 1, "项目名称")
    put(ws, 3, 2, "小型水库水标尺制作安装项目", span=3)
    put(ws, 3, 5, "项目负责人及电话", span=2)
    put(ws, 3, 7, "谢某 139xxxx0322", span=2)
    put(ws, 4, 1, "主管部门")
    put(ws, 4, 2, "某县水利局", span=3)
    put(ws, 4, 5, "实施单位", span=2)
    put(ws, 4, 7, "某县水利局", span=2)
    put(ws, 5, 1, "资金情况（万元）", down=3)
    for col, header in zip(range(3, 8), ("全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"),
                           strict=True):
        put(ws, 5, col, header)
    put(ws, 6, 2, "年度资金总额：")
    for col, value in zip(range(3, 8), (20, 20, 10, "100.00%", 10), strict=True):
        put(ws, 6, col, value)
    put(ws, 7, 2, "其中：本年财政拨款")
    put(ws, 7, 3, 20)
    put(ws, 7, 4, 20)
    put(ws, 8, 1, "年度总体目标", down=2)
    put(ws, 8, 2, "年初设定目标", span=3)
    put(ws, 8, 5, "年度总体目标完成情况综述", span=4)
    put(ws, 9, 2, "对农村地区供水计量设施设备进行改进", span=3)
    put(ws, 9, 5, "对项目区农业用水计量，为农业生产夯实基础", span=4)
    for col, header in enumerate(("一级指标", "二级指标", "三级指标", "分值", "年度指标值", "全年实际值", "得分",
                                  "未完成原因及拟采取的改进措施"), start=1):
        put(ws, 10, col, header)
    rows = [
        ("产出指标(70分)", "数量指标", "安装坡面水标尺", 10, "≥266米", "≥266米", 10),
        (None, None, "水标尺宽度", 10, "≥50厘米", "≥50厘米", 10),
        (None, "质量指标", "项目(工程)验收合格率", 20, "100%", "100%", 20),
        (None, "时效指标", "及时(按期)开工率", 10, "≥90%", "≥90%", 10),
        (None, None, "及时(按期)完工率", 10, "≥90%", "≥90%", 10),
        (None, "成本指标", "项目计划总投资", 10, "20万元", "20万元", 10),
        ("效益指标(20分)", "社会效益指标", "受益户人口数", 10, "≥1000人", "≥1000人", 10),
        (None, None, "群众生产生活条件改善状况", 10, "显著提升", "显著提升", 10),
        ("满意度指标(10分)", "服务对象满意度指标", "受益户满意度", 10, "≥95%", "≥95%", 10),
    ]
    for i, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=11 + i, column=col, value=value)
    ws.merge_cells("A11:A16")
    ws.merge_cells("A17:A18")
    put(ws, 20, 1, "总分", span=3)
    put(ws, 20, 4, 100)
    put(ws, 20, 7, 100)
    wb.save(path)


def write_units(path: Path) -> None:
    """A county table as published: amounts in 元, a two-row indicator header (绩效指标 over 一级指标 …,
    年度指标值 over 指标性质 | 指标值 | 度量单位), operators ≧ and ═, a "其中" funds row repeating 分值/得分,
    a "其中" breakdown row, a 二级 效益 row left without its 一级, a row without a target, and the grade
    at the end of the total row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "公开14表"
    put(ws, 1, 1, "2022年度项目支出绩效自评表", span=10)
    put(ws, 2, 1, "部门：某县明朗中学", span=9)
    put(ws, 2, 10, "公开14表")
    put(ws, 3, 1, "项目名称")
    put(ws, 3, 2, "义务教育营养改善计划专项资金", span=2)
    put(ws, 3, 4, "主管部门")
    put(ws, 3, 5, "某县教育体育局", span=2)
    put(ws, 3, 7, "实施单位")
    put(ws, 3, 8, "某县明朗中学", span=3)
    put(ws, 4, 1, "项目资金 (元)", span=2)
    for col, header in zip(range(3, 9), ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"),
                           strict=True):
        put(ws, 4, col, header)
    funds = (("年度资金总额", 400000, 387664.62, 387664.62, 10, "100%", 10),
             ("其中：当年财政\n拨款", 400000, 387664.62, 387664.62, 10, "100%", 10),
             ("上年结转\n资金", None, None, None, "—", None, "—"),
             ("其他资金", "—", "—", "—", "—", None, "—"))
    for i, (label, *values) in enumerate(funds):
        put(ws, 5 + i, 2, label)
        for col, value in zip(range(3, 9), values, strict=True):
            put(ws, 5 + i, col, value)
    put(ws, 9, 1, "年度\n总体\n目标", down=2)
    put(ws, 9, 2, "预期目标", span=4)
    put(ws, 9, 6, "实际完成情况", span=5)
    put(ws, 10, 2, "确保每一个学生都能享受到国家政策福利，改善学生体质", span=4)
    put(ws, 10, 6, "确保每一个学生都能享受到国家政策福利，改善学生体质", span=5)
    put(ws, 11, 1, "绩效指标", span=3)
    put(ws, 11, 4, "年度指标值", span=3)
    put(ws, 11, 7, "实际完成值", down=2)
    put(ws, 11, 8, "分值", down=2)
    put(ws, 11, 9, "得分", down=2)
    put(ws, 11, 10, "偏差原因分析及改进措施", down=2)
    for col, header in enumerate(("一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位"), start=1):
        put(ws, 12, col, header)
    rows = [
        ("产出指标", "数量指标", "学生受资助人数", "≧", 735, "人次", 735, 10, 10, None),
        (None, None, "其中：寄宿生人数", None, 300, "人次", 300, None, None, None),
        (None, "质量指标", "营养改善计划覆盖率", "≧", 100, "%", "100%", 20, 20, None),
        (None, "时效指标", "资金到位及时率", "≧", 100, "%", "100%", 10, 7, None),
        (None, "成本指标", "生均补助标准达标率", "═", 100, "%", "100%", 10, 10, None),
        (None, "社会效益\n指标", "政策知晓率", "═", 100, "%", "98%", 10, 9.8, "个别家长未参加宣传会"),
        ("效益指标", "经济效益\n指标", "减轻贫困学生家庭经济负担", None, "有效", None, "有效", 10, 10, None),
        (None, "可持续影响\n指标", "促进学校教育事业健康发展", None, None, None, None, 10, 10, None),
        ("满意度指标", "服务对象满意度指标等", "学生满意度", "≧", 95, "%", "100%", 10, 10, None),
    ]
    for i, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=13 + i, column=col, value=value)
    ws.merge_cells("A13:A17")
    ws.merge_cells("B13:B14")
    ws.merge_cells("A19:A20")
    put(ws, 22, 1, "其他需要说明事项")
    put(ws, 22, 2, "无", span=9)
    put(ws, 23, 1, "总分", span=7)
    put(ws, 23, 8, 100)
    put(ws, 23, 9, 96.8)
    put(ws, 23, 10, "优")
    wb.save(path)


def write_traditional(path: Path) -> None:
    """A Hubei table printed in traditional characters, one 年度績效目標 (80分) block whose 一級 headers carry
    the weights (產出指標（50分）, 效益指標（30分）) and no 分值 column."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    put(ws, 1, 1, "2020年度服務貿易發展資金項目自評表", span=7)
    put(ws, 2, 1, "單位名稱：區商務局", span=4)
    put(ws, 2, 5, "填報日期：2021年4月22日", span=3)
    put(ws, 3, 1, "項目名稱")
    put(ws, 3, 2, "服務貿易發展資金", span=2)
    put(ws, 3, 4, "主管部門")
    put(ws, 3, 5, "區商務局")
    put(ws, 3, 6, "項目實施單位")
    put(ws, 3, 7, "投資促進中心")
    put(ws, 4, 1, "預算執行情況（萬元）（20分）", span=3)
    for col, header in zip(range(4, 8), ("預算數（A）", "執行數（B）", "執行率（B/A）", "得分（20分*執行率）"),
                           strict=True):
        put(ws, 4, col, header)
    put(ws, 5, 1, "年度財政資金總額", span=3)
    for col, value in zip(range(4, 8), (285.84, 285.84, "100%", 20), strict=True):
        put(ws, 5, col, value)
    put(ws, 6, 1, "年度績效目標（80分）", down=4)
    for col, header in zip(range(2, 8), ("一級指標", "二級指標", "三級指標", "年初目標值（A）", "實際完成值（B）",
                                         "得分"), strict=True):
        put(ws, 6, col, header)
    rows = [("產出指標（50分）", "數量指標", "服務外包企業數量", "≥3家", "3家", 25),
            (None, "質量指標", "企業國際質量提升", "有效提升", "有效提升", 25),
            ("效益指標（30分）", "社會效益指標", "推動企業走出去", "有效推動", "有效推動", 27)]
    for i, row in enumerate(rows):
        for col, value in enumerate(row, start=2):
            if value is not None:
                ws.cell(row=7 + i, column=col, value=value)
    ws.merge_cells("B7:B8")
    put(ws, 10, 1, "總分", span=6)
    put(ws, 10, 7, 97)
    put(ws, 11, 1, "偏差大或目標未完成原因分析")
    put(ws, 11, 2, "企業受疫情影響走出去進度放緩", span=2)
    put(ws, 11, 4, "改進措施及結果應用方案")
    put(ws, 11, 5, "加強跟蹤服務", span=3)
    wb.save(path)


WRITERS = {
    "standard.xlsx": write_standard,
    "multi.xlsx": write_multi,
    "bad_cell.xlsx": write_bad_cell,
    "variant101.xlsx": write_variant101,
    "export.xlsx": write_export,
    "hubei.xlsx": write_hubei,
    "weights110.xlsx": write_weights110,
    "units.xlsx": write_units,
    "traditional.xlsx": write_traditional,
}


def write_all(folder: Path = HERE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, writer in WRITERS.items():
        writer(folder / name)
        paths.append(folder / name)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written)
