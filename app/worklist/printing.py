"""Letters as PDF (fpdf2): one page per letter, alone or a whole run's batch in one file.

The page uses DejaVu Sans when the system has it (any name prints, Welsh or Polish letters
included); otherwise the PDF core font, with letters it lacks written without their accents.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.errors import NotFoundError
from app.models import Letter, TaskState, User, WorklistTask
from app.worklist.letters import LetterText, letter_text

FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
)


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRECTORIES:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


# Letters with a stroke that Unicode does not decompose into a base letter and an accent.
_STROKED = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h"})


def _latin1(text: str) -> str:
    """The text in the core font's alphabet: accents dropped only where it has no letter."""
    out = []
    for char in text.translate(_STROKED):
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            folded = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode()
            out.append(folded or "?")
    return "".join(out)


class _Printer:
    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(20, 20, 20)
        self.pdf.set_auto_page_break(auto=True, margin=20)
        fonts = _font_files()
        if fonts is not None:
            self.pdf.add_font("Letter", "", str(fonts[0]))
            self.pdf.add_font("Letter", "B", str(fonts[1]))
            self.family, self.clean = "Letter", (lambda text: text)
        else:
            self.family, self.clean = "Helvetica", _latin1

    def write(self, text: str, *, size: int = 11, bold: bool = False, gap: float = 2) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")  # type: ignore[no-untyped-call]
        self.pdf.ln(gap)

    def page(self, text: LetterText, *, organisation_name: str, date_line: str) -> None:
        self.pdf.add_page()
        self.write(organisation_name, size=14, bold=True)
        self.write(date_line, gap=6)
        self.write(text.addressee, gap=6)
        for line in text.reference:
            self.write(line, gap=0.5)
        self.pdf.ln(5)
        self.write(text.title, size=13, bold=True, gap=4)
        self.write(f"{text.greeting},", gap=4)
        for paragraph in text.paragraphs:
            self.write(paragraph, gap=4)
        self.write("Yours sincerely,", gap=8)
        self.write(f"The waiting list team, {organisation_name}")


def letters_pdf(
    letters: Iterable[Letter], *, organisation_name: str, callback_number: str
) -> bytes:
    """One PDF with a page per letter, each dated with the date it was prepared."""
    printer = _Printer()
    printer.pdf.set_title("Waiting list letters")
    printer.pdf.set_creator(organisation_name)
    count = 0
    for letter in letters:
        text = letter_text(
            letter, organisation_name=organisation_name, callback_number=callback_number
        )
        date_line = letter.letter_date.strftime("%-d %B %Y")
        printer.page(text, organisation_name=organisation_name, date_line=date_line)
        count += 1
    if count == 0:
        printer.pdf.add_page()
        printer.write("No letters to print.")
    return bytes(printer.pdf.output())


def letters_to_print(
    session: Session, *, actor: User | str, letter_id: int | None = None
) -> list[Letter]:
    """One letter, or every letter whose task to send it is open (audited: they name patients)."""
    if letter_id is not None:
        letter = session.get(Letter, letter_id)
        if letter is None:
            raise NotFoundError("No such letter.")
        letters = [letter]
    else:
        letters = list(
            session.scalars(
                select(Letter)
                .join(WorklistTask, WorklistTask.letter_id == Letter.id)
                .where(WorklistTask.state == TaskState.OPEN, Letter.sent_at.is_(None))
                .order_by(Letter.kind, Letter.id)
            )
        )
    for letter in letters:
        audit.record(
            session,
            actor=actor,
            action="letter.printed",
            entity_type="letter",
            entity_id=letter.id,
            pathway_id=letter.pathway_id,
            detail={"kind": letter.kind.value, "batch": letter_id is None},
        )
    return letters
