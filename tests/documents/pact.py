"""The team's own pact documents, generated: a text PDF, a scanned (image-only) PDF and a DOCX.

The pact is fictional (invented officials, a made-up Cluster No. III of provincial Departments of Justice).
`python -m tests.documents.pact OUT_DIR` writes the three files for a look by hand; the tests build them in
a temporary directory. Needs fpdf2 and Pillow (dev dependencies) and the DejaVu fonts (Debian fonts-dejavu-core).
"""

from __future__ import annotations

import sys
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

TITLE = "BẢN GIAO ƯỚC THI ĐUA NĂM 2026"
HEADING = "Cụm thi đua số III – Sở Tư pháp các tỉnh Bắc Trung Bộ"
THEME = "Đoàn kết, kỷ cương, minh bạch, phục vụ người dân"
INTRO = (
    "Thực hiện kế hoạch công tác thi đua, khen thưởng của Bộ Tư pháp, ngày 12/3/2026, tại tỉnh Nghệ An, "
    "Cụm thi đua số III gồm Sở Tư pháp các tỉnh Thanh Hóa, Nghệ An, Hà Tĩnh và Quảng Trị thống nhất ký kết "
    f"giao ước thi đua năm 2026 với chủ đề “{THEME}”."
)
ROLES = "Năm 2026, Sở Tư pháp tỉnh Nghệ An là cụm trưởng, Sở Tư pháp tỉnh Hà Tĩnh là cụm phó."
LEAD_IN = "Các đơn vị trong cụm cam kết thực hiện các nội dung sau:"
COMMITMENTS = [
    "Hoàn thành toàn bộ chỉ tiêu kiểm tra, rà soát văn bản quy phạm pháp luật của tỉnh trong năm.",
    "Giải quyết đúng hạn hồ sơ lý lịch tư pháp, chứng thực và hộ tịch; tăng tỷ lệ hồ sơ trực tuyến toàn trình.",
    "Đẩy mạnh phổ biến, giáo dục pháp luật cho người dân vùng sâu, vùng xa và đồng bào dân tộc thiểu số.",
    "Xây dựng cơ quan đạt chuẩn văn hóa; không để công chức vi phạm kỷ luật.",
    "Phát hiện, bồi dưỡng và nhân rộng ít nhất hai điển hình tiên tiến trong năm.",
]
CLOSING = "Bản giao ước được lập thành 05 bản, mỗi đơn vị giữ 01 bản và gửi 01 bản về Bộ Tư pháp."
SIGN_HEADING = "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC"
SIGNATORIES = [
    ("Giám đốc Sở Tư pháp tỉnh Nghệ An", "Phan Thị Thu Hằng"),
    ("Giám đốc Sở Tư pháp tỉnh Hà Tĩnh", "Đặng Quốc Bảo"),
    ("Giám đốc Sở Tư pháp tỉnh Thanh Hóa", "Lê Đình Khôi"),
    ("Phó Giám đốc Sở Tư pháp tỉnh Quảng Trị", "Hồ Thị Ngọc Lan"),
]
COMMITMENTS_ON_PAGE_1 = 3  # the rest, the closing and the signatures are on page 2


def pages() -> list[list[str]]:
    """The pact's paragraphs, page by page, as a reader should get them back (numbers as text)."""
    numbered = [f"{i}. {text}" for i, text in enumerate(COMMITMENTS, start=1)]
    signatures = [f"{title} {name}" for title, name in SIGNATORIES]
    return [
        [TITLE, HEADING, INTRO, ROLES, LEAD_IN, *numbered[:COMMITMENTS_ON_PAGE_1]],
        [*numbered[COMMITMENTS_ON_PAGE_1:], CLOSING, SIGN_HEADING, *signatures],
    ]


def expected_text() -> str:
    return "\n\n".join("\n\n".join(page) for page in pages())


def text_pdf(path: Path) -> Path:
    """A PDF with a text layer (fpdf2, DejaVu embedded so every Vietnamese glyph is there)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Giao ước thi đua năm 2026 – Cụm thi đua số III")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_auto_page_break(False)
    for number, paragraphs in enumerate(pages()):
        pdf.add_page()
        pdf.set_margins(20, 20, 20)
        pdf.set_y(20)
        for index, paragraph in enumerate(paragraphs):
            bold = (number == 0 and index < 2) or paragraph == SIGN_HEADING
            pdf.set_font("DejaVu", "B" if bold else "", 12)
            pdf.multi_cell(0, 6, paragraph, align="L")
            pdf.ln(4)  # the gap between paragraphs that a reader sees
    path.write_bytes(bytes(pdf.output()))
    return path


def page_images(dpi: int = 300) -> list[object]:
    """Each page of the pact drawn on white A4 at `dpi`, as a scanner would give it (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    size = int(12 / 72 * dpi)  # 12 pt
    regular = ImageFont.truetype(str(FONT), size)
    bold = ImageFont.truetype(str(FONT_BOLD), size)
    margin, line_height = int(0.8 * dpi), int(size * 1.45)
    images = []
    for number, paragraphs in enumerate(pages()):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        y = margin
        for index, paragraph in enumerate(paragraphs):
            font = bold if (number == 0 and index < 2) or paragraph == SIGN_HEADING else regular
            for line in _wrap(paragraph, font, width - 2 * margin):
                draw.text((margin, y), line, font=font, fill=0)
                y += line_height
            y += line_height // 2
        images.append(image)
    return images


def _wrap(text: str, font: object, max_width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}".strip()
        if current and font.getlength(trial) > max_width:  # type: ignore[attr-defined]
            lines.append(current)
            current = word
        else:
            current = trial
    lines.append(current)
    return lines


def scanned_pdf(path: Path, dpi: int = 300) -> Path:
    """An image-only PDF (Pillow's PDF writer): what a scanned, signed pact looks like."""
    first, *rest = page_images(dpi)
    first.save(path, "PDF", resolution=float(dpi), save_all=True, append_images=rest)  # type: ignore[attr-defined]
    return path


def docx_file(path: Path) -> Path:
    """A Word pact: heading styles, Word's own automatic numbering (List Number), a page break and a
    signature table whose cells hold the title and the name."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.core_properties.title = ""  # the title comes from the first heading
    document.add_heading(TITLE, level=1)
    document.add_paragraph(HEADING)
    for paragraph in (INTRO, ROLES, LEAD_IN):
        document.add_paragraph(paragraph)
    for index, commitment in enumerate(COMMITMENTS):
        item = document.add_paragraph(commitment, style="List Number")
        if index == COMMITMENTS_ON_PAGE_1 - 1:
            item.add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph(CLOSING)
    document.add_paragraph(SIGN_HEADING)
    table = document.add_table(rows=2, cols=2)
    for index, (title, name) in enumerate(SIGNATORIES):
        cell = table.cell(index // 2, index % 2)
        cell.paragraphs[0].text = title
        cell.add_paragraph(name)
    document.save(str(path))
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else ".")
    out.mkdir(parents=True, exist_ok=True)
    for made in (text_pdf(out / "pact-text.pdf"), scanned_pdf(out / "pact-scanned.pdf"), docx_file(out / "pact.docx")):
        print(made)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
