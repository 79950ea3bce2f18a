"""One article through every stage: main text -> language -> entities -> translation -> merged entities.

Translation comes after the entities of the original text, because their names are protected from the
machine translation (see extractors.protect). The English translation is then run through the same
entity extractor and merged by entity id:

* an entity found in the original keeps its mentions (offsets into `record.text`); finding it again in
  the translation adds nothing;
* an entity found only in the translation (e.g. an official whose title the original language's cue
  words lack) is added with ``source: "translation"`` and no mentions, because mentions always point
  into `record.text`;
* a theme found in the original gets ``text_en`` from the translation: the n-th quoted theme of the
  translation when both have the same number, otherwise the theme's own translation.

`translate_record` does the translation step for a stored record too (the retranslate flow).
"""

from __future__ import annotations

import base64
import binascii
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from extractors.acquire.items import duplicate_link
from extractors.config import MAX_TEXT_CHARS, Detector, Limits, PipelineConfig
from extractors.dates import site_zone, with_zone
from extractors.documents import DOCUMENT_TYPES, Document, DocumentError, read_document, with_pages
from extractors.entities.engine import extract_entities
from extractors.entities.people import find_names
from extractors.html import extract_html
from extractors.ids import article_url_of, record_id, sha
from extractors.language import detect_language
from extractors.storable import storable, storable_raw, unstorable_count, unstorable_note
from extractors.text import normalize_text, one_line
from extractors.textclean import clean_main_text
from schemas.models import (
    ENTITY_KINDS,
    SCHEMA_VERSION,
    ArticleRecord,
    Entities,
    PipelineInfo,
    RawArticle,
    Theme,
    Translation,
)

_TITLE_MAX = 200


class TranslatorLike(Protocol):
    def translate(
        self,
        text: str,
        source: str,
        target: str | None = None,
        *,
        protect: Sequence[tuple[int, int]] = (),
        segments: Sequence[tuple[int, int, str]] = (),
    ) -> Translation: ...


@dataclass(frozen=True)
class ProcessOptions:
    """What `process` is handed besides the article: the version written into records, the detector, limits."""

    version: str  # newsflow's version: records say which pipeline made them
    detector: Detector = "langdetect"
    max_text_chars: int = MAX_TEXT_CHARS
    documents: Limits = field(default_factory=Limits)

    @classmethod
    def from_config(cls, config: PipelineConfig, version: str) -> ProcessOptions:
        return cls(version, config.language_detector, config.max_text_chars, Limits.from_settings(config))


class ArticleError(ValueError):
    """An article that cannot become a record (e.g. no main text); the message says why."""


def failure_reason(exc: BaseException, limit: int = 500) -> str:
    """One article's failure as one line: the message of an ArticleError, else the exception's type and message.

    Any exception of one article (a bug, a library's limit) fails that article only; callers report this.
    """
    return one_line(str(exc) if isinstance(exc, ArticleError) else f"{type(exc).__name__}: {exc}", limit)


def _split_title(text: str) -> tuple[str | None, str]:
    """A plain text's first line is its title when it is short, unpunctuated and followed by a blank line."""
    head, sep, rest = text.partition("\n\n")
    if sep and "\n" not in head and len(head) <= _TITLE_MAX and not head.rstrip().endswith((".", ":", ";")):
        return head.strip(), rest
    return None, text


def _read_raw_document(raw: RawArticle, limits: Limits) -> Document:
    """The text of a received PDF/DOCX, from the base64 bytes kept in `raw` (the file is not needed)."""
    try:
        data = base64.b64decode(raw.content, validate=True)
    except (binascii.Error, ValueError):
        raise ArticleError(f"{raw.media_type} content is not valid base64") from None
    try:
        return read_document(data, raw.source.uri, raw.media_type, limits=limits)
    except DocumentError as exc:
        raise ArticleError(str(exc).removeprefix(f"{raw.source.uri}: ")) from None


def process(
    raw: RawArticle,
    translator: TranslatorLike | None,
    target: str = "en",
    detector: Detector | None = None,
    *,
    options: ProcessOptions,
) -> ArticleRecord:
    """Turn one received article into a validated record (the same function for every entry point).

    `translator` None leaves the translation `pending` ("not attempted"); `detector` defaults to the
    options' detector. A main text longer than `options.max_text_chars` is an ArticleError;
    characters no database or JSON file can hold (NUL, lone surrogates) are replaced, with a warning.
    """
    warnings: list[str] = []
    raw, replaced, replaced_in = storable_raw(raw)
    title, published, authors, hint, url = raw.title, raw.published_at, list(raw.authors), raw.language_hint, raw.url
    article_url = article_url_of(raw.url)  # the record's `url` (the id keeps its own key: `url` below)
    date_note: str | None = None  # set when the date's zone (or time) was assumed: it becomes a warning
    date_hints: list[datetime] = []  # a page's dates that carry an offset: the zone of one that has none
    document: Document | None = None
    if raw.media_type in DOCUMENT_TYPES:
        document = _read_raw_document(raw, options.documents)
        text, title = document.text, title or document.title  # text kept whole: page spans index into it
        published = published or document.published_at
        scanned = [str(n) for n, method in enumerate(document.methods, start=1) if method == "ocr"]
        if scanned:
            warnings.append(f"text of page(s) {', '.join(scanned)} read by OCR")
    elif raw.media_type == "text/html":
        page = extract_html(raw.content, url=raw.url)
        text = page.text
        title = title or page.title
        if published is None and page.published_at is not None:
            published, date_note = page.published_at, page.date.note
        date_hints = page.date.hints
        authors = authors or page.authors
        hint = hint or page.language_hint
        url = url or page.canonical_url
        article_url = article_url or article_url_of(page.canonical_url, page.og_url)
        if page.method == "fallback":
            warnings.append("main text from the generic fallback extractor")
    else:
        body = normalize_text(raw.content)
        first_title, body = _split_title(body)
        title = title or first_title
        cleaned = clean_main_text(body, title=title)
        text = cleaned.text
        authors = authors or cleaned.authors
    if not text.strip():
        raise ArticleError("no main text found")
    if len(text) > options.max_text_chars:
        raise ArticleError(
            f"main text has {len(text):,} characters, over the limit of {options.max_text_chars:,} "
            "(NEWSFLOW_MAX_TEXT_CHARS)"
        )
    # What extraction made of the input (a page's "&#0;", a PDF's text layer) may hold them too.
    extracted = {
        "text": text,
        "title": title or "",
        "authors": "".join(authors),
        "url": url or "",
        "language_hint": hint or "",
    }
    for name, value in extracted.items():
        found = unstorable_count(value)
        if found:
            replaced += found
            replaced_in += [name] if name not in replaced_in else []
    if replaced:
        text, authors = storable(text), [storable(author) for author in authors]
        title, url, hint = (storable(v) if v is not None else None for v in (title, url, hint))
        article_url = storable(article_url) if article_url is not None else None
        warnings.append(unstorable_note(replaced, replaced_in))

    language = detect_language(text, hint, detector or options.detector)
    if language.code == "und":
        warnings.append("language undetermined (text too short)")
    if len({s.code for s in language.segments}) > 1:
        runs = ", ".join(f"{s.code} {s.start}-{s.end}" for s in language.segments)
        warnings.append(f"mixed languages: {runs}")
    if published is not None and published.utcoffset() is None:  # as received (JSON, a feed, a document)
        declared = hint or (language.code if language.code != "und" else None)
        zone = site_zone(url or article_url or raw.source.site, declared, date_hints)
        published, date_note = with_zone(published, zone)
    if date_note:
        warnings.append(date_note)

    entities = extract_entities(
        text, language.code if language.code != "und" else "en", published.date() if published else None
    )
    duplicate = duplicate_link(raw)
    if duplicate is not None:
        warnings.append(f"same story as {duplicate.id} ({duplicate.url}): not translated again")
    record = ArticleRecord(
        id=record_id(url, text),
        content_hash=sha(f"{title or ''}\n{text}"),
        schema_version=SCHEMA_VERSION,
        source=raw.source.model_copy(update={"site": raw.source.site or (urlsplit(url).hostname if url else None)}),
        url=article_url,
        title=title,
        published_at=published,
        authors=authors,
        language=language,
        text=text,
        translation=Translation(status="pending", target=target, error="translation not attempted"),
        entities=entities,
        pipeline=PipelineInfo(version=options.version, processed_at=datetime.now(UTC), warnings=warnings),
        duplicate_of=duplicate,
    )
    if duplicate is None:
        record = translate_record(record, translator, target)
    else:  # the same story is already stored: its record carries the translation
        record = record.model_copy(update={"translation": Translation(status="not_needed", target=target)})
    if document is not None:
        record = record.model_copy(update={"entities": with_pages(record.entities, document)})
    return record


# The kinds found again in a translation and merged by id; themes get `text_en` instead, dates, clusters and
# pacts are read from the original text only.
_ENTITY_KINDS = tuple(k for k in ENTITY_KINDS if k not in ("themes", "dates", "clusters", "pacts"))


def protected_spans(text: str, entities: Entities) -> list[tuple[int, int]]:
    """Spans of names that machine translation must not touch: provinces, officials, Vietnamese personal names."""
    spans = [(m.start, m.end) for p in entities.provinces for m in p.mentions]
    spans += [(m.start, m.end) for o in entities.officials for m in o.mentions]
    bodies = [(m.start, m.end) for d in entities.departments for m in d.mentions]
    bodies += [(m.start, m.end) for o in entities.organizations for m in o.mentions]
    spans += find_names(text, blocked=bodies + spans)
    return sorted(set(spans))


def merge_entities(original: Entities, translated: Entities) -> Entities:
    """`original` plus the entities found only in the translation (marked `source="translation"`, no mentions)."""
    update: dict[str, object] = {}
    for kind in _ENTITY_KINDS:
        mine = [e for e in getattr(original, kind) if e.source == "text"]
        known = {e.id for e in mine}
        extra = [
            e.model_copy(update={"source": "translation", "mentions": []})
            for e in getattr(translated, kind)
            if e.id not in known
        ]
        update[kind] = mine + extra
    return original.model_copy(update=update)


def _themes_en(record: ArticleRecord, translated: Entities, translator: TranslatorLike, target: str) -> list[Theme]:
    quoted = [t for t in record.entities.themes if t.mentions]
    found = [t for t in translated.themes if t.mentions]
    out = []
    for theme in record.entities.themes:
        if theme.text_en is not None or not theme.mentions:
            out.append(theme)
            continue
        if len(quoted) == len(found):
            text_en: str | None = found[quoted.index(theme)].text
        else:
            own = translator.translate(theme.text, record.language.code, target)
            text_en = own.text if own.status == "done" else None
        out.append(theme.model_copy(update={"text_en": text_en}))
    return out


def _takes_document_options(translator: TranslatorLike) -> bool:
    try:
        parameters = inspect.signature(translator.translate).parameters
    except (TypeError, ValueError):
        return False
    kinds = {p.kind for p in parameters.values()}
    return inspect.Parameter.VAR_KEYWORD in kinds or {"protect", "segments"} <= set(parameters)


def translate_record(record: ArticleRecord, translator: TranslatorLike | None, target: str = "en") -> ArticleRecord:
    """`record` with its translation (re)done and the entities of the translation merged in.

    Entities from an earlier translation and earlier translation warnings are dropped first, so the
    step can be repeated on a stored record (retranslate) without duplicating anything.
    """
    warnings = [w for w in record.pipeline.warnings if not w.startswith("translation ")]
    entities = merge_entities(record.entities, Entities())
    if translator is None:
        translation = Translation(status="pending", target=target, error="translation not attempted")
    else:
        segments = [(s.start, s.end, s.code) for s in record.language.segments]
        if _takes_document_options(translator):
            mixed: Sequence[tuple[int, int, str]] = segments if len({s for _, _, s in segments}) > 1 else ()
            # Finding the names costs a few ms; skipped where no translator would translate anything.
            idle = getattr(translator, "name", None) == "none" or (
                {s for _, _, s in mixed} - {"und"} or {record.language.code}
            ) <= {target.split("-")[0].lower()}
            translation = translator.translate(
                record.text,
                record.language.code,
                target,
                protect=() if idle else protected_spans(record.text, entities),
                segments=mixed,
            )
        else:  # a wrapper with the older (text, source, target) signature: it cannot protect names
            warnings.append("translation note: the translator takes no protect/segments; names were not protected")
            translation = translator.translate(record.text, record.language.code, target)
    unstorable = sum(unstorable_count(v) for v in (translation.text, translation.error) if v)
    if unstorable:  # a provider's answer is input too
        translation = translation.model_copy(
            update={k: storable(v) for k in ("text", "error") if (v := getattr(translation, k))}
        )
        warnings.append("translation note: " + unstorable_note(unstorable, ["translation"]))
    if translation.status in ("failed", "pending") and translation.error:
        warnings.append(f"translation {translation.status}: {translation.error}")
    elif translation.status == "done" and translation.error:
        warnings.append(f"translation note: {translation.error}")
    if translation.status == "done" and translation.text and translator is not None:
        published = record.published_at.date() if record.published_at else None
        found = extract_entities(translation.text, translation.target, published)
        entities = merge_entities(entities, found)
        entities = entities.model_copy(update={"themes": _themes_en(record, found, translator, target)})
    pipeline = record.pipeline.model_copy(update={"warnings": warnings})
    return record.model_copy(update={"translation": translation, "entities": entities, "pipeline": pipeline})
