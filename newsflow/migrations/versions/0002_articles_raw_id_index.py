"""Index articles.raw_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

PostgreSQL does not index a foreign key by itself; `retranslate` and `reprocess` join articles to
raw_inputs on it, and deleting a raw input would scan every article without it.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_raw_id", "articles", ["raw_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_raw_id", table_name="articles")
