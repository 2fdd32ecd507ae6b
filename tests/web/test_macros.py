from __future__ import annotations

from typing import Any

from jinja2 import Environment

from app.web.pages.rendering import templates


def _ui() -> Any:
    environment: Environment = templates.env
    return environment.get_template("macros.html").module


def test_form_macros_link_errors_to_their_fields_and_escape_values() -> None:
    ui = _ui()
    errors = {"note": "Enter a note"}
    html = str(ui.textarea("note", "Note", value="<b>x</b>", errors=errors))
    assert 'aria-describedby="note-error"' in html
    assert "nhsuk-form-group--error" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    summary = str(ui.error_summary(errors))
    assert '<a href="#note">Enter a note</a>' in summary


def test_radios_select_and_checkboxes_mark_what_was_chosen() -> None:
    ui = _ui()
    radios = str(
        ui.radios(
            "decision", "Decision", [("keep", "Keep"), ("remove", "Remove")], selected="remove"
        )
    )
    assert 'id="decision" name="decision" type="radio" value="keep">' in radios
    assert 'value="remove" checked>' in radios
    select = str(ui.select("reason", "Reason", [("", "Any"), ("leave", "Leave")], selected="leave"))
    assert '<option value="leave" selected>Leave</option>' in select
    boxes = str(
        ui.checkboxes("provider", "Provider", [("RXX", "RXX"), ("RYY", "RYY")], selected=["RYY"])
    )
    assert 'value="RYY" checked>' in boxes
    assert 'value="RXX">' in boxes


def test_pagination_shows_only_the_links_it_is_given() -> None:
    ui = _ui()
    assert str(ui.pagination()).strip() == ""
    html = str(ui.pagination(next_href="/review?after=42"))
    assert 'href="/review?after=42" rel="next"' in html
    assert 'rel="prev"' not in html
