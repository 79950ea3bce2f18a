"""The text folding every matcher relies on: one character in, one out, diacritics and case gone."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from extractors.text import ascii_name, fold, slug


def _fold_by_definition(text: str) -> str:
    """The documented rule, one character at a time (what `fold` computes faster)."""
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("d")
            continue
        low = unicodedata.normalize("NFD", ch)[0].lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def test_fold_strips_vietnamese_diacritics_and_case() -> None:
    assert fold("Tiền Giang") == "tien giang"
    assert fold("ĐỒNG THÁP, Bến Tre") == "dong thap, ben tre"
    assert fold("Sở Tài nguyên và Môi trường") == "so tai nguyen va moi truong"
    assert slug("Bà Rịa – Vũng Tàu") == "ba-ria-vung-tau"
    assert ascii_name("Võ Minh Thành") == "Vo Minh Thanh"


def test_fold_of_every_vietnamese_letter_matches_the_rule() -> None:
    letters = "".join(chr(c) for c in range(0x00C0, 0x1F00) if unicodedata.category(chr(c)).startswith("L"))
    assert fold(letters) == _fold_by_definition(letters)


@given(st.text(max_size=300))
def test_fold_keeps_length_and_follows_the_rule(text: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == _fold_by_definition(text)
    long_text = text * (200 // max(len(text), 1) + 1)  # above the short-string cache: the other path
    assert fold(long_text) == _fold_by_definition(long_text)
