"""Coverage-guided fuzz target (atheris/libFuzzer) for the text entry points of extraction.

Each input picks one entry point and feeds it arbitrary text: `extract_html` (any page, with a URL that
may match a site profile), `clean_main_text`, or `pipeline.process` on a RawArticle (HTML or plain
text). The only exception allowed out is `ArticleError` ("this is not an article"); anything else is a
crash that libFuzzer reports with the input that caused it.

    python tests/fuzz/fuzz_extractors.py -runs=2000 -max_len=4096 CORPUS_DIR   # bounded
    python tests/fuzz/fuzz_extractors.py CORPUS_DIR                            # until stopped

tests/fuzz/test_fuzz_extractors.py runs it for a bounded number of inputs from fresh seeds.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime

import atheris

with atheris.instrument_imports(include=["extractors"]):
    from extractors.html import extract_html
    from extractors.pipeline import ArticleError
    from extractors.textclean import clean_main_text
    from newsflow.runtime import process

from schemas.models import RawArticle, SourceInfo

FETCHED = datetime(2025, 3, 6, 2, 0, tzinfo=UTC)
# URLs that select the generic cascade and, for the .vn one, whatever profile matches its host pattern.
URLS = ("https://tinh.example.vn/tin/1.html", "https://news.example.org/a", None)
MEDIA = ("text/html", "text/plain")


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    entry = fdp.ConsumeIntInRange(0, 2)
    url = URLS[fdp.ConsumeIntInRange(0, len(URLS) - 1)]
    media = MEDIA[fdp.ConsumeIntInRange(0, 1)]
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    if entry == 0:
        extract_html(text, url=url)
    elif entry == 1:
        clean_main_text(text, title=text[:40] or None)
    else:
        raw = RawArticle(
            source=SourceInfo(kind="url" if url else "text", uri=url or "paste:fuzz", fetched_at=FETCHED),
            content=text,
            media_type=media,  # type: ignore[arg-type]
            url=url,
        )
        with contextlib.suppress(ArticleError):  # "not an article" is an answer, not a crash
            process(raw, None)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
