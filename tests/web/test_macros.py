from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from jinja2 import Environment

from app.web.pages.rendering import templates

STATIC_DIR = Path(__file__).resolve().parents[2] / "app" / "web" / "static"


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
    summary = " ".join(str(ui.error_summary(errors)).split())
    assert '<a href="#note"> Enter a note </a>' in summary
    assert str(ui.error_summary({})).strip() == ""


def test_the_nhsuk_components_library_targets_the_vendored_frontend_version() -> None:
    # nhsuk-frontend-jinja's compatibility table: its 0.10 releases follow NHS.UK frontend 10.6.
    compatible = {"0.10": "10.6"}
    library = ".".join(version("nhsuk-frontend-jinja").split(".")[:2])
    vendored = (STATIC_DIR / "VERSION_NHSUK_FRONTEND").read_text().strip()
    assert library in compatible, f"nhsuk-frontend-jinja {library} is not in the table"
    assert vendored.startswith(compatible[library] + "."), (library, vendored)


def test_buttons_come_from_the_library_with_their_variant_name_and_value() -> None:
    button = _ui().button("Yes, cancel", variant="warning", name="c", value="y")
    html = " ".join(str(button).split())
    assert html.startswith('<button class="nhsuk-button nhsuk-button--warning" name="c"')
    assert 'data-prevent-double-click="true" type="submit" value="y">' in html


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
