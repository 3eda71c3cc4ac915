"""Layout rules checked on the .docx itself (the rendered look is checked by eye: docs/notices.md)."""

from __future__ import annotations

from docx.shared import Pt

from notifications.documents import layout


def test_the_issuer_is_centred_over_the_date_and_both_stay_with_the_text_above() -> None:
    assert layout.width_in_characters("2023年4月13日") == 6.5  # digits are half-width
    document = layout.official_document()
    layout.body(document, "正文")
    layout.table(document, [layout.Column("项目", 36), layout.Column("内容", 120)], [["文件", "新时代意见"]])
    layout.signature(document, "督查督办办公室", "2023年4月13日")
    *_, blank, issuer, dated = document.paragraphs
    assert blank.text == "" and issuer.text == "督查督办办公室" and dated.text == "2023年4月13日"
    assert [p.text for p in document.paragraphs].count("") == 1, "one blank line after the table, not two"
    assert dated.paragraph_format.right_indent == Pt(16 * 4)
    assert issuer.paragraph_format.right_indent == Pt(16 * (4 + (6.5 - 7) / 2))
    assert blank.paragraph_format.keep_with_next and issuer.paragraph_format.keep_with_next


def test_an_issuer_longer_than_the_date_is_not_pushed_past_the_margin() -> None:
    document = layout.official_document()
    layout.signature(document, "赣州市苏区振兴发展工作办公室赣州市苏区振兴发展工作办公室", "2023年4月13日")
    assert document.paragraphs[-2].paragraph_format.right_indent == Pt(0)


def test_a_title_that_fits_stays_on_one_line() -> None:
    assert layout.title_capacity() == 20, "二号 (22 pt) over the 156 mm type area"
    assert layout.title_lines("督办通知单", 20) == ["督办通知单"]
    assert layout.title_lines("关于2024年第41周督查督办事项的通报", 20) == ["关于2024年第41周督查督办事项的通报"]


def test_the_weekly_title_breaks_after_the_week_into_a_trapezoid() -> None:
    title = "关于2024年第41周督查督办事项落实情况的通报"  # 21 characters: the digits count half
    assert layout.title_lines(title, 20) == ["关于2024年第41周", "督查督办事项落实情况的通报"]
    english = "Notice on the implementation of supervised items, week 41 of 2024"
    lines = layout.title_lines(english, 20)
    assert " ".join(lines) == english and len(lines) == 2 and all(len(line) <= 40 for line in lines), lines


def test_a_title_never_breaks_inside_a_quoted_name_or_a_number() -> None:
    assert layout.title_lines("关于认真学习贯彻《赣州市重点工作督查督办实施办法》的通知", 20) == [
        "关于认真学习贯彻", "《赣州市重点工作督查督办实施办法》的通知"]
    assert layout.title_lines("关于进一步抓好《赣州市督查督办工作办法》贯彻落实工作的通知", 20) == [
        "关于进一步抓好", "《赣州市督查督办工作办法》", "贯彻落实工作的通知"], "no 梯形 in two lines: a 菱形 in three"
    overlong = "关于进一步抓好《关于新时代推进赣南等原中央苏区振兴发展的意见》贯彻落实的通知"
    assert layout.title_lines(overlong, 20) == [
        "关于进一步抓好", "《关于新时代推进赣南等原中央苏区振兴发展的意见》", "贯彻落实的通知"], "a name wider than a line gets one"
    for per_line in range(8, 20):
        for line in layout.title_lines("关于2024年第41周第12345号督查督办事项落实情况的通报", per_line):
            assert not line[0].isdigit() and not line[-1].isdigit() or line.startswith("第"), line


def test_a_title_on_one_paragraph_with_explicit_line_breaks() -> None:
    document = layout.official_document()
    layout.title(document, "关于2024年第41周督查督办事项落实情况的通报")
    paragraph = document.paragraphs[-2]
    assert paragraph.text == "关于2024年第41周\n督查督办事项落实情况的通报"
    assert [run.font.size.pt for run in paragraph.runs] == [22, 22]
