"""The Store's tables: raw inputs, articles, runs and the translation cache (versioned by newsflow.migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from newsflow.storage.engine import UTCDateTime, key_type


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class RawInput(Base):
    """An input as received, content-addressed so the same bytes are kept once."""

    __tablename__ = "raw_inputs"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True, comment="sha256 of the content")
    media_type: Mapped[str] = mapped_column(String)
    source_uri: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="when the store first saw it")
    content: Mapped[str] = mapped_column(Text)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    meta: Mapped[str] = mapped_column("metadata", Text, comment="the RawArticle minus content, as JSON")
    # Migration 0003: stored before processing, so a failed extraction keeps its input for `reprocess`.
    status: Mapped[str] = mapped_column(String, server_default="processed", comment="pending, processed or failed")
    error: Mapped[str | None] = mapped_column(Text, comment="why the last processing failed")

    __table_args__ = (Index("ix_raw_inputs_received_at_id", "received_at", "id"),)


class Article(Base):
    """The latest ArticleRecord of one article id, with a few columns copied out for querying."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String)
    schema_version: Mapped[str] = mapped_column(String)
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String, comment="ISO 639-1 code or 'und'")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_uri: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    record: Mapped[str] = mapped_column(Text, comment="the full ArticleRecord as JSON")
    raw_id: Mapped[str] = mapped_column(key_type(), ForeignKey("raw_inputs.id"))

    # iter_records walks (updated_at, id) in order; raw_id is joined on (migration 0002).
    __table_args__ = (
        Index("ix_articles_updated_at_id", "updated_at", "id"),
        Index("ix_articles_raw_id", "raw_id"),
    )


class Run(Base):
    """One pipeline run."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String, primary_key=True, comment="a UUID")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    counts: Mapped[str | None] = mapped_column(Text, comment="JSON object")
    output: Mapped[str | None] = mapped_column(Text, comment="path of the run's output")
    # Migration 0003: who runs it, so a run whose process died can be told from one still going.
    pid: Mapped[int | None] = mapped_column(Integer, comment="process id of the run")
    host: Mapped[str | None] = mapped_column(String, comment="host name of that process")


class CachedTranslationRow(Base):
    """One translated chunk, keyed by (provider, source, target, sha256 of the text sent to the provider)."""

    __tablename__ = "translation_cache"

    provider: Mapped[str] = mapped_column(String, primary_key=True)
    source: Mapped[str] = mapped_column(String, primary_key=True)
    target: Mapped[str] = mapped_column(String, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String, primary_key=True, comment="sha256 of the text sent")
    translation: Mapped[str] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(Text, comment="engine and versions that translated it")
    translated_at: Mapped[datetime] = mapped_column(UTCDateTime)
