"""analysis groups: the analyses of one analyze/advanced request share a group id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 18:45:04.336981
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_analyses_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analyses_group_id"))
        batch_op.drop_column("group_id")
