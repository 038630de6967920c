"""The loan agreement as a PDF: the same text the borrower reads on the page, set in Roboto (which has the Latin,
Vietnamese and Cyrillic letters a borrower's name may hold), with its creation date fixed to the agreement's own
date. Nothing in it depends on when or where it is produced, so the PDF made at the agreement's creation, whose
SHA-256 is kept beside the text's, is byte for byte the one the borrower downloads and signs.

One face is embedded, the regular one; the title is made bold by stroking its outlines. Each embedded face is parsed
and subset anew for every document (fpdf2 subsets the parsed font in place, so it cannot be kept between documents),
which was nearly all of a document's cost: one face halves it (57 ms to 29 ms here), and under origination load the
agreement was the largest single cost in a worker (docs/origination.md)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import font_roboto
from fpdf import FPDF
from fpdf.enums import TextMode

_FONT = font_roboto.font_files["Roboto"]
_TITLE_STROKE_MM = 0.3


def agreement_pdf(document: str, title: str = "Loan agreement") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_producer("lendflow")
    pdf.set_creator("lendflow")
    pdf.add_font("Roboto", "", _FONT)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    lines = document.rstrip("\n").split("\n")
    pdf.set_font("Roboto", "", 15)
    with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=_TITLE_STROKE_MM):
        pdf.multi_cell(0, 9, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Roboto", "", 10.5)
    for line in lines[1:]:
        if line:
            pdf.multi_cell(0, 5.6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    return bytes(pdf.output())


def pdf_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
