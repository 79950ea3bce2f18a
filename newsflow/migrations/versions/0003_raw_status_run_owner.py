"""Raw inputs keep their processing status; runs keep the process that runs them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

raw_inputs.status/error: a raw input is stored before it is processed ('pending'), so one whose
extraction failed ('failed', with the reason) is still there for `newsflow reprocess`. Rows stored
before this revision were stored together with their record, hence 'processed'.

runs.pid/host: a run killed with its process stays 'running'; the next run on the same host sees the
process is gone and marks it 'interrupted'.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch table copy would have to drop
    # raw_inputs, which articles reference.
    op.add_column(
        "raw_inputs",
        sa.Column(
            "status",
            sa.String(),
            nullable=False,
            server_default="processed",
            comment="pending, processed or failed",
        ),
    )
    op.add_column("raw_inputs", sa.Column("error", sa.Text(), nullable=True, comment="why the last processing failed"))
    op.add_column("runs", sa.Column("pid", sa.Integer(), nullable=True, comment="process id of the run"))
    op.add_column("runs", sa.Column("host", sa.String(), nullable=True, comment="host name of that process"))


def downgrade() -> None:
    op.drop_column("runs", "host")
    op.drop_column("runs", "pid")
    op.drop_column("raw_inputs", "error")
    op.drop_column("raw_inputs", "status")
