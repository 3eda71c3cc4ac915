"""Write the demo's sample files (cli/samples/units.csv, cli/samples/ledger.xlsx), deterministically.

The four 2022 documents carry exactly the figures of the office's 2022 summary
(../shared/seed): 新时代意见 103 items / 53 done, 建设方案 126 / 31, 2022年工作要点（北上对接事项）
58 / 47, 援县促市事项 76 / 64. `2023年工作计划` holds the 2023 plan's concrete tasks, its recurring
ones with a 频次.

    .venv/bin/python scripts/make_samples.py     # rewrites cli/samples/
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parent.parent / "cli" / "samples"
FIXED = datetime(2023, 1, 1, 0, 0)  # noqa: DTZ001 - workbook metadata, not an instant

# code, name, contact emails, leader emails (分管领导, shared by several units)
UNITS = [
    ("FGW", "市发改委", "fgw@example.gov.cn、fgw-zhc@example.gov.cn", "fsz-wang@example.gov.cn"),
    ("CZJ", "市财政局", "czj@example.gov.cn", "fsz-wang@example.gov.cn"),
    ("SWJ", "市商务局", "swj@example.gov.cn", "fsz-liu@example.gov.cn"),
    ("GXJ", "市工信局", "gxj@example.gov.cn", "fsz-liu@example.gov.cn"),
    ("ZRZY", "市自然资源局", "zrzyj@example.gov.cn", "fsz-chen@example.gov.cn"),
    ("JTYS", "市交通运输局", "jtysj@example.gov.cn", "fsz-chen@example.gov.cn"),
    ("NYNC", "市农业农村局", "nyncj@example.gov.cn", "fsz-zhao@example.gov.cn"),
    ("WGXL", "市文广新旅局", "wgxlj@example.gov.cn", "fsz-zhou@example.gov.cn"),
    ("STHJ", "市生态环境局", "sthjj@example.gov.cn", "fsz-chen@example.gov.cn"),
    ("ZJJ", "市住建局", "zjj@example.gov.cn", "fsz-chen@example.gov.cn"),
    ("JYJ", "市教育局", "jyj@example.gov.cn", "fsz-zhou@example.gov.cn"),
    ("WJW", "市卫健委", "wjw@example.gov.cn", "fsz-zhou@example.gov.cn"),
    ("RSJ", "市人社局", "rsj@example.gov.cn", "fsz-zhou@example.gov.cn"),
    ("KJJ", "市科技局", "kjj@example.gov.cn", "fsz-liu@example.gov.cn"),
    ("SLJ", "市水利局", "slj@example.gov.cn", "fsz-zhao@example.gov.cn"),
    ("SWU", "市税务局", "swu@example.gov.cn", "fsz-wang@example.gov.cn"),
    ("SQB", "市苏区办", "sqb@example.gov.cn、sqb-dc@example.gov.cn", "fsz-wang@example.gov.cn"),
    ("XCB", "市委宣传部", "xcb@example.gov.cn", "swcw-xu@example.gov.cn"),
    ("ZZB", "市委组织部", "zzb@example.gov.cn", "swcw-xu@example.gov.cn"),
    ("JRB", "市金融办", "jrb@example.gov.cn", "fsz-wang@example.gov.cn"),
]
SUPERVISORS = ["duban-sup1@example.gov.cn", "duban-sup2@example.gov.cn", "duban-sup3@example.gov.cn"]

# What the items are about, with the unit that usually leads such work and a category.
SUBJECTS = [
    ("赣州革命老区高质量发展示范区建设", "FGW", "规划政策"), ("红色文化保护传承", "XCB", "红色文化"),
    ("长征国家文化公园赣州段建设", "WGXL", "红色文化"), ("瑞金中央苏区旧址群保护利用", "WGXL", "红色文化"),
    ("稀土产业高质量发展", "GXJ", "产业发展"), ("钨产业链延伸", "GXJ", "产业发展"),
    ("赣州国际陆港建设", "SWJ", "开放合作"), ("长赣铁路前期工作", "JTYS", "基础设施"),
    ("瑞梅铁路建设", "JTYS", "基础设施"), ("赣州黄金机场改扩建", "JTYS", "基础设施"),
    ("赣江航运通道建设", "JTYS", "基础设施"), ("农村危旧房改造", "ZJJ", "民生保障"),
    ("高标准农田建设", "NYNC", "乡村振兴"), ("脐橙产业提质增效", "NYNC", "乡村振兴"),
    ("油茶产业发展", "NYNC", "乡村振兴"), ("城乡供水一体化", "SLJ", "基础设施"),
    ("中心城区防洪工程", "SLJ", "基础设施"), ("山水林田湖草沙一体化保护修复", "ZRZY", "生态文明"),
    ("东江源生态保护补偿", "STHJ", "生态文明"), ("低质低效林改造", "ZRZY", "生态文明"),
    ("职业教育产教融合", "JYJ", "社会事业"), ("区域医疗中心建设", "WJW", "社会事业"),
    ("养老服务体系建设", "WJW", "社会事业"), ("就业创业扶持", "RSJ", "民生保障"),
    ("西部大开发税收优惠政策", "SWU", "政策支持"), ("地方政府专项债券额度", "CZJ", "政策支持"),
    ("中央预算内投资", "FGW", "政策支持"), ("国家级开发区扩区调区", "SWJ", "开放合作"),
    ("跨境电商综合试验区", "SWJ", "开放合作"), ("综合保税区建设", "SWJ", "开放合作"),
    ("数字经济发展", "GXJ", "产业发展"), ("新能源汽车产业", "GXJ", "产业发展"),
    ("现代家具产业集群", "GXJ", "产业发展"), ("科技创新平台建设", "KJJ", "产业发展"),
    ("红色旅游精品线路", "WGXL", "红色文化"), ("普惠金融改革试验区", "JRB", "政策支持"),
    ("干部双向挂职交流", "ZZB", "对口支援"), ("教育对口支援", "JYJ", "对口支援"),
]
DOCUMENTS = [  # short name, items, done, how titles read
    ("新时代意见", 103, 53, ("支持{}", "推动{}", "加快{}", "深化{}")),
    ("建设方案", 126, 31, ("示范推进{}", "率先实施{}", "高标准推进{}", "探索创新{}")),
    ("2022年工作要点（北上对接事项）", 58, 47, ("北上对接争取{}", "争取国家部委支持{}")),
    ("援县促市事项", 76, 64, ("对口支援单位帮助推进{}", "援县促市：协调推进{}")),
]
DEADLINE_TEXTS = ["2022年底", "2023年6月底", "2023年第二季度", "2022/9/30", "2023年3月31日", "2022年年底", "2023年二季度"]

# Section 二 of the 2023 plan: number, title, lead unit, co-units, deadline as written, supervisor
PLAN_2023 = [
    ("1", "推动省级层面出台实施《赣州革命老区高质量发展示范区建设发展规划》", "FGW", "SQB", "2023年6月底", SUPERVISORS[0]),
    ("2", "推动出台《支持赣州革命老区高质量发展示范区建设的若干政策措施》并抓好宣传贯彻", "FGW", "CZJ、XCB", "2023年第二季度", SUPERVISORS[0]),
    ("3", "持续抓好《新时代意见》《建设方案》及4个重点领域实施方案贯彻落实，健全台账、实行销号管理", "SQB", "FGW", "2023年底", SUPERVISORS[1]),
    ("4", "组织编撰赣南苏区蓝皮书", "SQB", "XCB", "2023年第三季度", SUPERVISORS[1]),
    ("5", "研究提出并推动落实新时代赣南苏区振兴发展2023年工作要点", "SQB", "", "2023年3月底", ""),
    ("6", "组织编撰示范区建设典型案例和工作实践，争取出版发行", "SQB", "XCB", "2023年年底", ""),
    ("7", "争取国家发改委牵头召开部际联席会议", "FGW", "SQB", "2023年三季度", SUPERVISORS[2]),
    ("8", "争取省委召开2023年省苏区振兴领导小组会议", "SQB", "", "2023年6月30日", SUPERVISORS[2]),
    ("9", "争取省政府在我市召开2023年省支持推进会", "SQB", "FGW", "2023/9/30", ""),
    ("10", "争取国家发改委在我市召开全国革命老区振兴发展现场经验交流会", "FGW", "SQB", "2023年底", SUPERVISORS[0]),
    ("11", "建立会议事项落实台账，每季度跟踪梳理落实情况并适时通报", "SQB", "", "2023-12-31", ""),
    # 12 and 13 are the office's own work in the seed (市苏区办 leads, liaising with the others)
    ("12", "统筹推进西部大开发政策落实，按季调度税收、财政、投资等政策执行情况", "SQB", "CZJ、FGW、SWU", "2023年第四季度", SUPERVISORS[1]),
    ("13", "深化与历批次对口支援挂职干部常态化联络机制，每季度开展走访座谈", "SQB", "", "2023年底", ""),
    ("14", "推动对口支援单位尽快出台2023年度对口支援工作计划", "SQB", "", "2023年二季度", SUPERVISORS[2]),
    ("15", "组织召开第五批对口支援年度工作座谈会", "SQB", "ZZB", "2023年8月31日", ""),
    ("16", "研究提报对口支援2023年度重点推进事项和“促市”事项", "SQB", "FGW", "2023年3月底前", SUPERVISORS[0]),
    ("17", "推动一批“援县促市”标志性示范工程落地", "FGW", "GXJ、SWJ", "2023年底", ""),
    ("18", "全面梳理重大政策、重大项目，争取纳入国家和省“十四五”规划中期调整", "FGW", "", "2023年6月底", SUPERVISORS[1]),
    ("19", "全年组织4次以上集中“北上”对接活动，争取一批国家级试点平台", "SQB", "FGW、KJJ", "2023年12月31日", ""),
    ("20", "制定出台2023年度争资争项考核办法", "SQB", "CZJ", "2023年第一季度", SUPERVISORS[2]),
    ("21", "组织申报2023年省预算内基建投资苏区振兴发展重大平台建设专项投资计划", "FGW", "", "2023年上半年", ""),
]

# 频次 of the plan's recurring tasks (docs/periods.md), as the seed words them: 每季度跟踪梳理 (11),
# 按季调度 (12) and 每季度开展走访座谈 (13). The two reported on by the 20th of each quarter's last
# month are due within the demo's week (26 June 2023), so the demo shows reported and missed periods.
FREQUENCY_2023 = {"11": "每季度", "12": "每季度20日前", "13": "每季度20日前"}

LEDGER_HEADER = ["文件", "编号", "事项", "类别", "牵头单位", "配合单位", "完成时限", "督办人", "状态", "备注", "频次"]


def units_csv() -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["单位编码", "单位名称", "上级单位", "联系邮箱", "分管领导邮箱"])
    for code, name, emails, leaders in UNITS:
        writer.writerow([code, name, "", emails, leaders])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # Excel writes UTF-8 with a BOM


def _is_done(index: int, items: int, done: int) -> bool:
    """Spread `done` finished items evenly over `items` (exactly `done` of them)."""
    return (index + 1) * done // items > index * done // items


def ledger_rows() -> list[list[object]]:
    names = {code: name for code, name, _, _ in UNITS}
    rows: list[list[object]] = []
    serial = 0
    for short_name, items, done, templates in DOCUMENTS:
        for i in range(items):
            serial += 1
            subject, lead, category = SUBJECTS[i % len(SUBJECTS)]
            title = templates[(i // len(SUBJECTS)) % len(templates)].format(subject)
            number = f"{i // 21 + 1}.{i % 21 + 1}" if short_name == "建设方案" else str(i + 1)
            co = [names[SUBJECTS[(i + k) % len(SUBJECTS)][1]] for k in (5, 11)][: (1 if i % 4 == 0 else 2 if i % 7 == 0 else 0)]
            co = [c for c in co if c != names[lead]]
            deadline: object = (datetime(2022 + (serial % 2), 1 + serial % 12, 28)  # noqa: DTZ001 - an Excel date cell
                                if serial % 3 else DEADLINE_TEXTS[serial % len(DEADLINE_TEXTS)])
            status = "已落实" if _is_done(i, items, done) else ("进行中" if i % 3 == 0 else "")
            supervisor = SUPERVISORS[serial % 3] if i % 5 == 0 else ""
            rows.append([short_name, number, title, category, names[lead], "、".join(co), deadline, supervisor, status,
                         "按季度调度" if i % 10 == 0 else "", ""])
    for number, title, lead, co_codes, deadline, supervisor in PLAN_2023:
        co_names = "、".join(names[c] for c in co_codes.split("、") if c)
        rows.append(["2023年工作计划", number, title, "2023年工作计划", names[lead], co_names, deadline, supervisor, "", "",
                     FREQUENCY_2023.get(number, "")])
    return rows


def ledger_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "台账"
    sheet.append(LEDGER_HEADER)
    for row in ledger_rows():
        sheet.append(row)
        if isinstance(row[6], datetime):
            sheet.cell(row=sheet.max_row, column=7).number_format = "yyyy-mm-dd"
    workbook.properties.created = workbook.properties.modified = FIXED
    raw = io.BytesIO()
    workbook.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same bytes on every run: zip entries get a fixed timestamp, workbook a fixed modified time."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _pin_modified(content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2023, 1, 1, 0, 0, 0)), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _pin_modified(core: bytes) -> bytes:
    import re

    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2023-01-01T00:00:00Z\g<2>", core)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "units.csv").write_bytes(units_csv())
    (OUT / "ledger.xlsx").write_bytes(ledger_xlsx())
    print(f"wrote {OUT / 'units.csv'} and {OUT / 'ledger.xlsx'} ({len(ledger_rows())} items)")


if __name__ == "__main__":
    main()
