"""The loan agreement as a PDF: the same text the borrower reads on the page, set in Roboto (which has the Latin,
Vietnamese and Cyrillic letters a borrower's name may hold), with its creation date fixed to the agreement's own
date. Nothing in it depends on when or where it is produced, so the PDF made at the agreement's creation, whose
SHA-256 is kept beside the text's, is byte for byte the one the borrower downloads and signs.

One face is embedded, the regular one; the title is made bold by stroking its outlines. Each embedded face is parsed
and subset anew for every document (fpdf2 subsets the parsed font in place, so it cannot be kept between documents),
which was nearly all of a document's cost: one face halves it (57 ms to 29 ms here), and under origination load the
agreement was the largest single cost in a worker (docs/origination.md).

So the face itself is cut down once per process to the letters an agreement may hold (`CHARACTERS`: Latin with
Vietnamese, Greek, Cyrillic, punctuation and currency signs; about half of Roboto's glyphs, without the layout
tables fpdf2 does not use without text shaping), and each document parses and subsets that; lines that fit the page
are set as one cell, skipping the line breaker (which measures a line again for each character it adds): 29 ms to
13 ms a document. The cut-down face is written to a directory of the process's own: a face in a shared, predictable
place could be replaced by another user of the machine, and with it what the borrower's copy shows."""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import font_roboto
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode

_ROBOTO = Path(font_roboto.font_files["Roboto"])
_TITLE_STROKE_MM = 0.3
CHARACTERS = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x24F),  # Latin-1, Latin Extended-A and -B
    (0x300, 0x36F),  # combining accents
    (0x370, 0x3FF),  # Greek
    (0x400, 0x52F),  # Cyrillic and its supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x206F),  # punctuation
    (0x20A0, 0x20C0),  # currency signs
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark
)


@functools.cache
def agreement_font() -> Path:
    """The cut-down face, made once per process (about 0.2 s) in a directory only this user can write."""
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    font = TTFont(_ROBOTO)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[code for first, last in CHARACTERS for code in range(first, last + 1)])
    subsetter.subset(font)
    directory = tempfile.mkdtemp(prefix="lendflow-font-")  # mode 0700
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = Path(directory) / "roboto-agreement.ttf"
    font.save(path)
    return path


def agreement_pdf(document: str, title: str = "Loan agreement") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_producer("lendflow")
    pdf.set_creator("lendflow")
    pdf.add_font("Roboto", "", agreement_font())
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    lines = document.rstrip("\n").split("\n")
    pdf.set_font("Roboto", "", 15)
    with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=_TITLE_STROKE_MM):
        pdf.multi_cell(0, 9, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Roboto", "", 10.5)
    for line in lines[1:]:
        if not line:
            pdf.ln(3)
        elif pdf.get_string_width(line) < pdf.epw:
            pdf.cell(0, 5.6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 5.6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def pdf_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
