"""The loan agreement as a PDF: the same text the borrower reads on the page, set in Roboto (which has the Latin,
Vietnamese and Cyrillic letters a borrower's name may hold), with its creation date fixed to the agreement's own
date. Nothing in it depends on when or where it is produced, so the PDF made at the agreement's creation, whose
SHA-256 is kept beside the text's, is byte for byte the one the borrower downloads and signs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import font_roboto
from fpdf import FPDF

_FONT = font_roboto.font_files["Roboto"]
_BOLD = font_roboto.font_files["RobotoBold"]


def agreement_pdf(document: str, title: str = "Loan agreement") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_producer("lendflow")
    pdf.set_creator("lendflow")
    pdf.add_font("Roboto", "", _FONT)
    pdf.add_font("Roboto", "B", _BOLD)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    lines = document.rstrip("\n").split("\n")
    pdf.set_font("Roboto", "B", 15)
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
