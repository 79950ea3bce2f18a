"""The store's tables as newsflow created them before it used Alembic.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

Each table and index is created only if it is missing, so the same revision brings an empty database
and a database made by the pre-Alembic code (which ran `create_all`) to the same place: nothing that
exists is touched, so no stored row is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _key() -> sa.types.TypeEngine[str]:
    # Same as newsflow.storage.engine.key_type(): byte order ("C") on PostgreSQL.
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def _index(name: str, table: str, columns: list[str]) -> None:
    existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes(table)}
    if name not in existing:
        op.create_index(name, table, columns)


def upgrade() -> None:
    if _missing("raw_inputs"):
        op.create_table(
            "raw_inputs",
            sa.Column("id", _key(), primary_key=True, comment="sha256 of the content"),
            sa.Column("media_type", sa.String(), nullable=False),
            sa.Column("source_uri", sa.Text(), nullable=False),
            sa.Column("source_kind", sa.String(), nullable=False),
            sa.Column("received_at", _ts(), nullable=False, comment="when the store first saw it"),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("metadata", sa.Text(), nullable=False, comment="the RawArticle minus content, as JSON"),
        )
    _index("ix_raw_inputs_received_at_id", "raw_inputs", ["received_at", "id"])
    if _missing("articles"):
        op.create_table(
            "articles",
            sa.Column("id", _key(), primary_key=True),
            sa.Column("content_hash", sa.String(), nullable=False),
            sa.Column("schema_version", sa.String(), nullable=False),
            sa.Column("title", sa.Text(), nullable=True),
            sa.Column("language", sa.String(), nullable=False, comment="ISO 639-1 code or 'und'"),
            sa.Column("published_at", _ts(), nullable=True),
            sa.Column("source_uri", sa.Text(), nullable=False),
            sa.Column("first_seen_at", _ts(), nullable=False),
            sa.Column("updated_at", _ts(), nullable=False),
            sa.Column("record", sa.Text(), nullable=False, comment="the full ArticleRecord as JSON"),
            sa.Column("raw_id", _key(), sa.ForeignKey("raw_inputs.id"), nullable=False),
        )
    _index("ix_articles_updated_at_id", "articles", ["updated_at", "id"])
    if _missing("runs"):
        op.create_table(
            "runs",
            sa.Column("id", sa.String(), primary_key=True, comment="a UUID"),
            sa.Column("started_at", _ts(), nullable=False),
            sa.Column("finished_at", _ts(), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("counts", sa.Text(), nullable=True, comment="JSON object"),
            sa.Column("output", sa.Text(), nullable=True, comment="path of the run's output"),
        )
    if _missing("translation_cache"):
        op.create_table(
            "translation_cache",
            sa.Column("provider", sa.String(), primary_key=True),
            sa.Column("source", sa.String(), primary_key=True),
            sa.Column("target", sa.String(), primary_key=True),
            sa.Column("text_hash", sa.String(), primary_key=True, comment="sha256 of the text sent"),
            sa.Column("translation", sa.Text(), nullable=False),
            sa.Column("engine", sa.Text(), nullable=True, comment="engine and versions that translated it"),
            sa.Column("translated_at", _ts(), nullable=False),
        )


def downgrade() -> None:
    for table in ("translation_cache", "runs", "articles", "raw_inputs"):
        op.drop_table(table)
