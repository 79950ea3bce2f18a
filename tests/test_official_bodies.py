"""Officials linked to the body they serve: titles naming it, referring back to it, or implying it."""

from __future__ import annotations

from datetime import date

from extractors.entities.engine import extract_entities
from schemas.models import Entities

DAY = date(2024, 5, 1)
LONG_AN = "vn-province:legacy_63:80"


def _bodies(text: str, lang: str) -> dict[str, str | None]:
    ents: Entities = extract_entities(text, lang, DAY)
    return {o.name: o.organization.id if o.organization else None for o in ents.officials}


def test_a_bare_title_takes_the_department_named_last_before_it() -> None:
    text = (
        "The Long An Department of Health met the Department of Finance on May 2.\n"
        "Its director, Tran Van Lanh, said the budget was settled."
    )
    assert _bodies(text, "en") == {"Tran Van Lanh": f"vn-department:finance:{LONG_AN}"}


def test_the_department_named_by_its_kind_alone_refers_back() -> None:
    en = (
        "The Long An Department of Construction opened a bridge on May 2. The Department of Transport will "
        "maintain it.\nDeputy Director of the Department Le Thi Hoa said traffic would rise."
    )
    assert _bodies(en, "en") == {"Le Thi Hoa": f"vn-department:transport:{LONG_AN}"}
    es = (
        "El Departamento de Salud de Long An abrió una clínica.\n"
        "La subdirectora del Departamento, Pham Thi Dao, dijo que atenderá a 300 pacientes."
    )
    assert _bodies(es, "es") == {"Pham Thi Dao": f"vn-department:health:{LONG_AN}"}
    fr = (
        "Le Département de la Santé de la province de Long An a lancé une campagne.\n"
        "Son directeur adjoint, Vo Van Tam, a appelé les habitants à participer."
    )
    assert _bodies(fr, "fr") == {"Vo Van Tam": f"vn-department:health:{LONG_AN}"}
    vi = "Sở Tài chính tỉnh Long An họp. Ông Đỗ Văn Khiêm, Phó Giám đốc Sở, cho biết nguồn vốn đã đủ."
    assert _bodies(vi, "vi") == {"Đỗ Văn Khiêm": f"vn-department:finance:{LONG_AN}"}


def test_a_body_named_right_after_the_name_wins_over_the_one_before() -> None:
    text = (
        "The Long An Department of Health and the Department of Finance met on May 2.\n"
        "Director Tran Van Lanh of the Department of Health said the plan was ready."
    )
    assert _bodies(text, "en") == {"Tran Van Lanh": f"vn-department:health:{LONG_AN}"}


def test_ministry_officials_are_linked_to_their_ministry() -> None:
    vi = "Đoàn công tác của Bộ Y tế do Thứ trưởng Nguyễn Văn Tâm làm trưởng đoàn đã làm việc với tỉnh Long An."
    assert _bodies(vi, "vi") == {"Nguyễn Văn Tâm": "vn-ministry:health"}
    en = "Minister of Home Affairs Pham Thi Loan worked with Long An province on staffing."
    assert _bodies(en, "en") == {"Pham Thi Loan": "vn-ministry:home_affairs"}
    # The ministry is named only by its sector after the title, and nowhere else.
    es = "El viceministro de Salud Tran Van Minh visitó la provincia de Long An."
    assert _bodies(es, "es") == {"Tran Van Minh": "vn-ministry:health"}
    fr = "Le vice-ministre de la Santé Le Van Binh a visité la province de Long An."
    assert _bodies(fr, "fr") == {"Le Van Binh": "vn-ministry:health"}


def test_title_only_heads_of_the_ethnic_committee_and_the_inspectorate() -> None:
    text = (
        "Ban Dân tộc tỉnh Long An họp với Thanh tra tỉnh.\n"
        "Trưởng ban Dân tộc Lâm Văn Sơn cho biết kế hoạch đã xong.\n"
        "Chánh Thanh tra tỉnh Trịnh Thị Hà đề nghị công khai danh sách."
    )
    assert _bodies(text, "vi") == {
        "Lâm Văn Sơn": f"vn-department:ethnic_affairs:{LONG_AN}",
        "Trịnh Thị Hà": f"vn-department:inspectorate:{LONG_AN}",
    }
    # The inspectorate is not named at all: the chief inspector serves the province the article is about.
    alone = "Tại tỉnh Long An, Chánh Thanh tra Ngô Văn Phúc cho biết đã kiểm tra 12 đơn vị."
    assert _bodies(alone, "vi") == {"Ngô Văn Phúc": f"vn-department:inspectorate:{LONG_AN}"}


def test_a_board_of_the_council_stays_the_councils() -> None:
    text = "Trưởng ban Dân tộc HĐND tỉnh Long An Nguyễn Văn Tâm phát biểu tại kỳ họp."
    assert _bodies(text, "vi") == {"Nguyễn Văn Tâm": f"vn-org:peoples_council:{LONG_AN}"}


def test_an_appointed_official_gets_the_post_not_the_appointing_committee() -> None:
    fr = (
        "Le Comité populaire de la province de Long An a nommé le 2 mai Nguyen Van Hai au poste d'inspecteur "
        "en chef de l'Inspection provinciale."
    )
    assert _bodies(fr, "fr") == {"Nguyen Van Hai": f"vn-department:inspectorate:{LONG_AN}"}
    vi = "Chủ tịch UBND tỉnh Long An ký quyết định bổ nhiệm ông Nguyễn Văn Hải giữ chức Giám đốc Sở Y tế."
    ents = extract_entities(vi, "vi", DAY)
    assert [(o.name, o.titles) for o in ents.officials] == [("Nguyễn Văn Hải", ["Giám đốc"])]
    assert _bodies(vi, "vi") == {"Nguyễn Văn Hải": f"vn-department:health:{LONG_AN}"}


def test_no_body_of_the_kind_leaves_the_official_unlinked() -> None:
    # A company's director is not linked to the department the article names: he is no official at all (business
    # people are not, tests/real/GUIDE.md); a director in an article that names no department is not linked.
    vi = "Sở Y tế tỉnh Long An họp. Giám đốc Công ty TNHH Minh Phát Nguyễn Văn Toàn phát biểu."
    assert _bodies(vi, "vi") == {}
    en = "Long An province held a meeting on May 2. Director Tran Van Lanh said costs fell."
    assert _bodies(en, "en") == {"Tran Van Lanh": None}
    fr = "La province de Long An a reçu une délégation. Le vice-ministre Le Van Binh a visité un chantier."
    assert _bodies(fr, "fr") == {"Le Van Binh": None}
