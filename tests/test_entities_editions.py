"""Shapes of the foreign editions that the team's first texts lacked (issue 17, part 2): appositions with an
article, national posts, Party membership before the post. Made-up sentences in the shapes the issue lists."""

from __future__ import annotations

from datetime import date

import pytest

from extractors.entities.engine import extract_entities


@pytest.mark.parametrize(
    ("text", "lang", "name", "titles"),
    [
        (
            "Mr. Le Van Hai, the Director of the Department of Health of Long An, said the plan was ready.",
            "en",
            "Le Van Hai",
            ["Director"],
        ),
        (
            "El primer ministro de Vietnam, Nguyen Van Anh, y el presidente de Laos se reunieron.",
            "es",
            "Nguyen Van Anh",
            ["primer ministro"],
        ),
        (
            "Le comité a approuvé l'élection de M. Tran Van Binh, membre suppléant du Comité central du Parti, comme "
            "président du Comité populaire provincial de Ben Tre.",
            "fr",
            "Tran Van Binh",
            ["membre suppléant du Comité central du Parti", "président"],
        ),
        (
            "The Prime Minister approved the election of Mr. Le Quang Minh, Alternate Member of the Party Central "
            "Committee, as Chairman of the Dong Thap Provincial People's Committee.",
            "en",
            "Le Quang Minh",
            ["Alternate Member of the Party Central Committee", "Chairman"],
        ),
    ],
)
def test_official_and_titles_in_edition_shapes(text: str, lang: str, name: str, titles: list[str]) -> None:
    (official,) = extract_entities(text, lang, date(2024, 6, 1)).officials
    assert (official.name, official.titles) == (name, titles)


def test_the_director_of_a_department_is_linked_to_it() -> None:
    ents = extract_entities(
        "Mr. Le Van Hai, the Director of the Department of Health of Long An, said so.", "en", date(2024, 6, 1)
    )
    (official,) = ents.officials
    assert official.organization is not None and official.organization.id == ents.departments[0].id
    assert ents.departments[0].province is not None and ents.departments[0].province.name == "Long An"
