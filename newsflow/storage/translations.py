"""The translation cache: one row per translated chunk (extractors.translate.TranslationCache)."""

from __future__ import annotations

from sqlalchemy import func, select

from extractors.translate import CachedTranslation
from newsflow.storage.base import StoreBase
from newsflow.storage.tables import CachedTranslationRow


class TranslationsMixin(StoreBase):
    """get/put of cached chunk translations."""

    def get_translation(self, provider: str, source: str, target: str, text_hash: str) -> CachedTranslation | None:
        """The cached translation of one chunk, or None."""
        key = (
            (CachedTranslationRow.provider == provider)
            & (CachedTranslationRow.source == source)
            & (CachedTranslationRow.target == target)
            & (CachedTranslationRow.text_hash == text_hash)
        )
        stmt = select(CachedTranslationRow.translation, CachedTranslationRow.engine, CachedTranslationRow.translated_at)
        with self._errors("cannot read the translation cache of"), self.engine.connect() as conn:
            row = conn.execute(stmt.where(key)).one_or_none()
        return None if row is None else CachedTranslation(row.translation, row.engine, row.translated_at)

    def put_translation(
        self, provider: str, source: str, target: str, text_hash: str, value: CachedTranslation
    ) -> None:
        """Keep one chunk's translation (the first one kept for a key stays)."""
        with self._errors("cannot write the translation cache of"), self._write() as conn:
            conn.execute(
                self._insert(CachedTranslationRow)
                .values(
                    provider=provider,
                    source=source,
                    target=target,
                    text_hash=text_hash,
                    translation=value.text,
                    engine=value.engine,
                    translated_at=value.translated_at,
                )
                .on_conflict_do_nothing()
            )

    def count_translations(self) -> int:
        """Number of cached chunk translations."""
        with self._errors("cannot count cached translations in"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(CachedTranslationRow)).scalar_one())
