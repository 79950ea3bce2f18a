"""Topics follow the annotation guide (tests/eval/README.md): the one to three things an article is about."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from extractors.entities import lexicon as lx
from extractors.entities.engine import extract_entities
from extractors.entities.topics import find_topics, key_of, topic_scores
from extractors.text import fold

FILLER = "The meeting was held at the provincial hall on Monday morning with district leaders."


def keys(text: str, lang: str = "en", names: Sequence[tuple[int, int]] = ()) -> list[str]:
    return [key_of(t.text) for t in find_topics(text, lang, names)]


def spans(text: str, name: str) -> list[tuple[int, int]]:
    out, i = [], text.find(name)
    while i >= 0:
        out.append((i, i + len(name)))
        i = text.find(name, i + 1)
    return out


def test_a_cue_in_the_headline_weighs_more_than_in_a_paragraph() -> None:
    headline = f"Province expands digital services\n{FILLER}\nLeaders then visited two communes in the north."
    body = f"Province holds a meeting\n{FILLER} They spoke about digital services.\nLeaders then visited two communes."
    assert keys(headline) == ["digital_transformation"]
    assert keys(body) == []
    assert (
        topic_scores(headline, "en")["digital_transformation"] == 2 * topic_scores(body, "en")["digital_transformation"]
    )


def test_a_topic_in_two_paragraphs_beats_one_repeated_in_one() -> None:
    spread = f"Provincial news\nThe province opened a school.\nA second school opened in May.\n{FILLER}"
    repeated = (
        f"Provincial news\nThe province opened a school, a school library and a school canteen.\n{FILLER}\n{FILLER}"
    )
    assert topic_scores(spread, "en")["education"] > topic_scores(repeated, "en")["education"]


def test_a_passing_mention_in_the_closing_paragraph_is_not_a_topic() -> None:
    head = "Binh Duong opens new schools\nThe province opened 12 schools in three districts this year."
    health = "Leaders also promised a new hospital and free health checks for residents."
    other = "Construction took nine months and cost 200 billion dong."
    closing = f"{head}\n{other}\n{health}"
    inner = f"{head}\n{health}\n{other}"
    assert keys(closing) == ["education"]
    # The same sentence inside the article is part of what it deals with.
    assert keys(inner) == ["education", "health"]


def test_a_department_name_alone_is_not_a_topic() -> None:
    text = (
        "Sở Tài nguyên và Môi trường tỉnh Hậu Giang đẩy nhanh cấp giấy chứng nhận quyền sử dụng đất\n"
        "Sáng 3/6, lãnh đạo Sở Tài nguyên và Môi trường tỉnh Hậu Giang họp với các huyện về tiến độ đo đạc "
        "địa chính.\n"
        "Phó Giám đốc Sở Tài nguyên và Môi trường đề nghị giải quyết tranh chấp đất đai."
    )
    found = [key_of(t.text) for t in extract_entities(text, "vi", date(2024, 6, 3)).themes if t.kind == "topic"]
    assert found == ["land"]
    assert "environment" not in topic_scores(text, "vi")
    # Pollution in two paragraphs is the environment, whatever the department's name.
    polluted = text.replace("địa chính.", "địa chính và xử lý ô nhiễm.").replace("đất đai.", "đất đai và ô nhiễm.")
    assert "environment" in keys(polluted, "vi")


def test_a_body_name_found_by_the_engine_weighs_nothing() -> None:
    # One-word sectors ('Health') are names only where the engine found a department.
    name = "Department of Health"
    text = f"{name} of Can Tho reviews the year\nThe {name} met on Monday.\nThe {name} will report in June.\n{FILLER}"
    assert keys(text) == ["health"]  # without the names, 'health' is cued in three paragraphs
    assert keys(text, names=spans(text, name)) == []


def test_a_minor_topic_beside_one_that_runs_through_the_article_is_dropped() -> None:
    trade = "Two exporters and several businesses attended."
    dominant = "\n".join(
        [
            "Long An rice farmers adopt new varieties",
            "Rice farmers in Tan Thanh district planted 3,000 hectares of a new variety.",
            trade,
            "The rice harvest is expected in March, farmers said.",
            "Farmers will also receive crop insurance support.",
            "The provincial agriculture extension centre will train 500 farmers.",
        ]
    )
    scores = topic_scores(dominant, "en")
    assert scores["trade_investment"] >= 1.5 and scores["agriculture"] >= 6
    assert keys(dominant) == ["agriculture"]
    # Beside a topic named only in the headline and once more, the same paragraph counts.
    assert keys(f"Long An rice farmers adopt new varieties\n{FILLER}\n{trade}\n{FILLER}") == [
        "agriculture",
        "trade_investment",
    ]


def test_at_most_three_topics_with_the_most_text_first() -> None:
    text = "\n".join(
        [
            "Dong Thap farmers get irrigation and new roads",
            "Rice farmers in three districts will get drip irrigation and new pumping stations this spring.",
            "The rice harvest grew after farmers switched to new varieties and the province built farm roads.",
            "The irrigation works and a new reservoir will serve 4,000 households, the director said.",
            "Investors from Japan also visited an industrial park and signed a trade agreement.",
            "Teachers from two schools joined the visit; the school year starts in September.",
        ]
    )
    scores = topic_scores(text, "en")
    assert {"agriculture", "water", "infrastructure", "trade_investment", "education"} <= set(scores)
    assert keys(text) == ["agriculture", "water", "infrastructure"]


def test_unaccented_vietnamese_gets_the_same_topics() -> None:
    text = (
        "Trà Vinh ứng phó hạn mặn, bảo đảm nước sinh hoạt cho người dân\n"
        "Tỉnh kiểm tra công tác phòng chống hạn hán, xâm nhập mặn và lắp đặt thêm trạm cấp nước.\n"
        "Các địa phương được yêu cầu trữ nước ngọt và theo dõi độ mặn hằng ngày."
    )
    assert set(keys(text, "vi")) == {"climate_change", "water"}
    assert keys(fold(text), "vi") == keys(text, "vi")


def test_one_syllable_cues_need_diacritics() -> None:
    # 'mỏ' (a mine) is a cue only with its diacritics: folded, 'mo' is also 'mở' (open) and 'mô' (model).
    marked = "Tỉnh kiểm tra các mỏ\nHai mỏ bị đình chỉ trong tháng 5.\nBa mỏ khác được gia hạn."
    assert keys(marked, "vi") == ["minerals"]
    assert keys(fold(marked), "vi") == []
    assert "minerals" not in keys("Tỉnh mở rộng mô hình\nTỉnh mở thêm một lớp.\nMột mô hình mới.", "vi")


def test_both_vietnamese_tone_placements_match() -> None:
    old = "Tỉnh nâng cấp công trình thủy lợi\nCông trình thủy lợi phục vụ 2.000 ha."
    new = old.replace("thủy", "thuỷ")
    assert keys(old, "vi") == keys(new, "vi") == ["water"]


def test_the_longest_cue_wins() -> None:
    mangroves = "Cà Mau trồng rừng ngập mặn\nTỉnh trồng thêm 500 ha rừng ngập mặn ven biển.\n" + "Ngày 4/12, tỉnh họp."
    assert keys(mangroves, "vi") == ["forestry"]  # not salinity ('mặn')
    climate = "Province improves its investment climate\nThe investment climate index rose.\n" + FILLER
    assert keys(climate) == ["trade_investment"]  # not climate change


def test_whole_words_plurals_and_stems() -> None:
    assert keys("Farmers and farming\nThe farmers met.\n" + FILLER) == ["agriculture"]  # 'farm*' is a stem
    assert keys("New roadmaps\nTwo roadmaps were approved.\n" + FILLER) == []  # 'road' is a word, not a stem
    assert keys("Les mais\nIl a dit mais non.\nMais oui.", "fr") == []  # 'maïs' (maize) folds to 'mais' (but)


def test_a_long_text_on_one_line_is_split_into_sentences() -> None:
    text = " ".join(
        ["Dak Lak farmers harvest a record coffee crop this season."]
        + [FILLER] * 5
        + ["One school also received new desks."]
    )
    assert keys(text) == ["agriculture"]  # the headline-like first sentence, not one later mention of a school


def test_every_topic_has_cues_in_every_language() -> None:
    data = lx.load("topics")
    assert len(data["topics"]) == 18
    for key, row in data["topics"].items():
        for lang in lx.TOPIC_LANGUAGES:
            assert row[lang], (key, lang)
        # Texts without diacritics use only cues of two syllables or more.
        assert any(len(fold(c).split()) >= 2 for c in row["vi"]), key


def test_api_labels_and_kind() -> None:
    themes = find_topics("Land disputes settled\nThe land disputes ended.\n" + FILLER, "en")
    assert [(t.kind, t.text, t.mentions) for t in themes] == [("topic", "Land", [])]
    assert key_of("Land") == "land" and key_of("unknown label") == "unknown label"
    assert find_topics("", "en") == [] and topic_scores(FILLER, "en") == {}
