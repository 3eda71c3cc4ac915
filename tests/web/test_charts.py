"""The sparkline: points scaled into the box, labels escaped, nothing for fewer than two points."""

from __future__ import annotations

from web.charts import spark


def test_points_are_scaled_into_the_box_oldest_left():
    svg = spark([0.0, 50.0, 100.0], width=108, height=28)
    assert 'points="4.0,24.0 54.0,14.0 104.0,4.0"' in svg


def test_labels_are_escaped_and_single_points_draw_nothing():
    assert "<b>" not in spark([1.0, 2.0], ["<b>", "x"]) and "&lt;b&gt;" in spark([1.0, 2.0], ["<b>", "x"])
    assert spark([5.0]) == ""
