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
