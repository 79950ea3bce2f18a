"""The `Translator`: article text through the providers of the table, part by part and chunk by chunk."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from extractors.config import TranslateConfig
from extractors.protect import Protector
from extractors.translate.cache import CachedTranslation, TranslationCache, text_key
from extractors.translate.chunks import Chunk, has_words, split_into_chunks
from extractors.translate.providers import BY_NAME, PROVIDERS, TRANSLATOR_CHOICES
from extractors.translate.resilience import _breaker, _install_request_hook, _ProviderFailure, call_with_retries
from schemas.models import Translation

log = logging.getLogger(__name__)

Span = tuple[int, int]
Segment = tuple[int, int, str]  # start, end, language code


def _primary(code: str) -> str:
    return code.strip().replace("_", "-").split("-")[0].lower()


@dataclass
class _Part:
    text: str  # protected
    source: str | None  # None: keep as it is (already in the target language, or no words)


@dataclass
class _Run:
    """What one translate() call gathered: provenance of every chunk, and minor parts left untranslated."""

    times: list[datetime]
    kept: list[str]


def _parts(
    text: str, src: str, tgt: str, protect: Sequence[Span], segments: Sequence[Segment], protector: Protector
) -> list[_Part]:
    """The text cut at its language runs, names replaced by placeholders, each with its source language."""
    runs = sorted((s, e, _primary(code)) for s, e, code in segments) or [(0, len(text), src)]
    bounds: list[tuple[int, int, str | None]] = []
    pos = 0
    for start, end, code in runs:
        if start > pos:  # text between runs (blank lines) goes with the next run
            start = pos
        source = src if code in ("und", "") else code
        bounds.append((start, end, None if source == tgt else source))
        pos = end
    if pos < len(text):
        last = bounds[-1]
        bounds[-1] = (last[0], len(text), last[2])
    parts = []
    for start, end, lang in bounds:
        spans = [(max(a, start) - start, min(b, end) - start) for a, b in protect if a < end and b > start]
        parts.append(_Part(protector.protect(text[start:end], spans), lang))
    return parts


def _summary(name: str, failures: list[tuple[str, _ProviderFailure]], target: str, src: str, tgt: str) -> Translation:
    """The result when no provider translated: pending, failed or unsupported, with every provider's reason."""
    kinds = {failure.kind for _, failure in failures}
    detail = "; ".join(f"{provider}: {failure.reason}" for provider, failure in failures)
    provider = name if name in PROVIDERS else None
    if kinds & {"unreachable", "transient"}:
        prefix = "no provider reachable" if kinds - {"unsupported"} == {"unreachable"} else "no translation yet"
        return Translation(status="pending", target=target, source=src, provider=provider, error=f"{prefix}: {detail}")
    if "permanent" in kinds:
        return Translation(
            status="failed",
            target=target,
            source=src,
            provider=provider,
            error=f"translation failed: {detail}",
        )
    reason = f"no configured provider translates {src} -> {tgt}" + (f": {detail}" if detail else "")
    return Translation(status="unsupported", target=target, source=src, provider=provider, error=reason)


class Translator:
    """Translates article text with one provider, or with the first that works (`auto`)."""

    def __init__(
        self,
        settings: TranslateConfig,
        name: str | None = None,
        *,
        cache: TranslationCache | None = None,
        acquire: Callable[[str], None] | None = None,
    ) -> None:
        """`cache`: where chunk translations are kept (the store, `newsflow.runtime` hands it), None for none.

        `acquire(provider)` is called before every provider request (e.g. a Prefect rate limit).
        """
        name = name or settings.translator
        if name not in TRANSLATOR_CHOICES:
            raise ValueError(f"unknown translator {name!r}; use auto, none or one of {', '.join(PROVIDERS)}")
        self.settings = settings
        self.name = name
        self.acquire = acquire
        self._roots: dict[str, str] = {}
        for provider in PROVIDERS if name == "auto" else (() if name == "none" else (name,)):
            root = BY_NAME[provider].root(settings)
            if root is not None:
                self._roots[provider] = root
            elif name != "auto":  # an explicit choice that cannot work is an operator error: say so now
                raise ValueError(f"translator {name!r} needs {BY_NAME[name].requirement}")
        self.cache = cache
        _install_request_hook()

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers this translator will try, in order."""
        return tuple(self._roots)

    def translate(
        self,
        text: str,
        source: str,
        target: str | None = None,
        *,
        protect: Sequence[Span] = (),
        segments: Sequence[Segment] = (),
    ) -> Translation:
        """Translate `text` from `source` to `target` (default `settings.translation_target`).

        `protect`: spans of `text` (names) that are kept as written. `segments`: (start, end, language)
        runs of a mixed-language text; each is translated from its own language, runs in the target
        language are kept, 'und' runs are taken as `source`. Without segments the whole text is `source`.
        """
        target = target or self.settings.translation_target
        src, tgt = _primary(source or "und"), _primary(target)
        if not text.strip():
            return Translation(status="not_needed", target=target)
        languages = {_primary(code) for _, _, code in segments} - {"und"} or {src}
        if languages <= {tgt}:
            return Translation(status="not_needed", target=target, source=src)
        if self.name == "none":
            return Translation(status="unsupported", target=target, error="translation disabled (--translator none)")
        if src in ("und", ""):
            return Translation(
                status="unsupported",
                target=target,
                error="source language undetermined ('und'): nothing to translate from",
            )
        protector = Protector()
        parts = _parts(text, src, tgt, protect, segments, protector)
        failures: list[tuple[str, _ProviderFailure]] = []
        for provider in self._roots:
            run = _Run(times=[], kept=[])
            try:
                translated = "".join(self._translate_part(provider, part, src, tgt, run) for part in parts).strip()
            except _ProviderFailure as failure:
                log.info("translation with %s did not succeed: %s", provider, failure.reason)
                failures.append((provider, failure))
                continue
            restored, lost = protector.restore(translated)
            notes = []
            if run.kept:
                notes.append(f"kept untranslated ({provider} has no pair): {', '.join(sorted(set(run.kept)))} parts")
            if lost:
                notes.append(f"{provider} dropped protected name(s): {', '.join(lost)}")
            return Translation(
                status="done",
                target=target,
                source=src,
                provider=provider,
                engine=self.engine(provider, src, tgt),
                text=restored,
                error="; ".join(notes) or None,
                translated_at=max(run.times) if run.times else datetime.now(UTC),
            )
        return _summary(self.name, failures, target, src, tgt)

    def engine(self, provider: str, src: str, tgt: str) -> str:
        """What does the translating, with versions, for provenance."""
        return BY_NAME[provider].engine(src, tgt)

    def _translate_part(self, provider: str, part: _Part, src: str, tgt: str, run: _Run) -> str:
        if part.source is None or not has_words(part.text):
            return part.text
        core = part.text.strip()
        lead, trail = part.text[: part.text.index(core)], part.text[part.text.index(core) + len(core) :]
        try:
            return lead + self._translate_with(provider, core, part.source, tgt, run) + trail
        except _ProviderFailure as failure:
            if failure.kind != "unsupported" or part.source == src:
                raise
            run.kept.append(part.source)  # a caption in a language this provider lacks: keep it as written
            return part.text

    def _translate_with(self, provider: str, text: str, src: str, tgt: str, run: _Run) -> str:
        """The whole text through one provider, chunk by chunk; raises _ProviderFailure."""
        open_reason = _breaker.open_reason((provider, self._roots[provider]))
        if open_reason:
            raise _ProviderFailure("unreachable", open_reason)
        row = BY_NAME[provider]
        lacking = row.lacks_pair(src, tgt) if row.lacks_pair is not None else None
        if lacking:
            raise _ProviderFailure("unsupported", lacking)
        out: list[str] = []
        for chunk in split_into_chunks(text, row.max_chunk):
            out.append(self._cached_chunk(provider, chunk, src, tgt, run) + chunk.sep)
        return "".join(out)

    def _cached_chunk(self, provider: str, chunk: Chunk, src: str, tgt: str, run: _Run) -> str:
        if not has_words(chunk.text):  # punctuation only, e.g. '* * *': nothing to translate
            return chunk.text
        key = text_key(chunk.text)
        if self.cache is not None:
            hit = self.cache.get_translation(provider, src, tgt, key)
            if hit is not None:
                run.times.append(hit.translated_at)
                return hit.text
        result = self._translate_chunk(provider, chunk, src, tgt)
        now = datetime.now(UTC)
        run.times.append(now)
        if self.cache is not None:
            value = CachedTranslation(result, self.engine(provider, src, tgt), now)
            self.cache.put_translation(provider, src, tgt, key, value)
        return result

    def _translate_chunk(self, provider: str, chunk: Chunk, src: str, tgt: str) -> str:
        result = self._call_with_retries(provider, chunk.text, src, tgt)
        if chunk.text.count("\n") == result.count("\n") or len(chunk.parts) == 1:
            return result
        # The provider reflowed the line breaks: one request per piece so no paragraph break is lost.
        log.info("%s changed the line breaks of a chunk; translating it piece by piece", provider)
        return "".join(
            (self._call_with_retries(provider, piece, src, tgt) if has_words(piece) else piece) + sep
            for piece, sep in chunk.parts
        )

    def _call_with_retries(self, provider: str, text: str, src: str, tgt: str) -> str:
        call = functools.partial(self._call, provider, text, src, tgt)
        return call_with_retries(provider, self._roots[provider], call, self.settings, self.acquire)

    def _call(self, provider: str, text: str, src: str, tgt: str) -> str:
        """One request through the provider's client, made here too; runs in the worker thread."""
        row = BY_NAME[provider]
        return row.make(self._roots[provider], row.code(src), row.code(tgt), self.settings)(text)
