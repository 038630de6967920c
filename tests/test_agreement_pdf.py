"""The agreement's PDF is set in a face cut down to the letters an agreement may hold: every letter of the
borrowers' names in the languages we serve must still be in it, drawn, not replaced by an empty box."""

from __future__ import annotations

import logging

import pytest
from fontTools.ttLib import TTFont

from services.agreement_pdf import agreement_font, agreement_pdf, pdf_hash

NAMES = [
    "Mary-Jane O'Connor",
    "Nguyễn Thị Hồng Ánh",  # Vietnamese
    "Олександр Їжаченко-Ґудзь",  # Ukrainian
    "Søren Åkesson Łukasz Żółć",
    "Γιώργος Παπαδόπουλος",
]
SIGNS = "€₫₴₽£$№\u2013\u2014\u201c\u201d\u2018\u2019\u2026"  # dashes, quotes, ellipsis


@pytest.mark.parametrize("name", NAMES)
def test_every_letter_of_a_name_is_in_the_face(name: str) -> None:
    cmap = TTFont(agreement_font()).getBestCmap()
    assert [letter for letter in name + SIGNS if ord(letter) not in cmap] == []


def test_a_document_sets_without_a_missing_glyph(caplog: pytest.LogCaptureFixture) -> None:
    document = "LOAN AGREEMENT\nBorrower: " + ", ".join(NAMES) + "\nTotal: " + SIGNS + "\n\n" + "long line " * 40 + "\n"
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = agreement_pdf(document)
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf
    assert not [record for record in caplog.records if "missing" in record.getMessage()]
    assert pdf_hash(agreement_pdf(document)) == pdf_hash(pdf)  # the same document, the same bytes


def test_a_letter_outside_the_face_is_reported_not_dropped_silently(caplog: pytest.LogCaptureFixture) -> None:
    """The check above can fail: a character the face lacks (a CJK one) is what fpdf2 warns about."""
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        agreement_pdf("LOAN AGREEMENT\nBorrower: 山田太郎\n")
    assert any("missing" in record.getMessage() for record in caplog.records)


def test_the_face_is_kept_where_no_other_user_can_replace_it() -> None:
    """What the borrower's copy shows is drawn by this file: it must not sit in a shared, predictable place."""
    directory = agreement_font().parent
    assert directory.stat().st_mode & 0o777 == 0o700
    assert directory.name.startswith("lendflow-font-") and directory.name != "lendflow-font-"
