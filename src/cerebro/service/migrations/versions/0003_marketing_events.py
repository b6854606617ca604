"""marketing events: causal records ingested from ad platforms

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 18:47:18.404967
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketing_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=True),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.String(length=200), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("treatment_assignment", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Float(), nullable=True),
        sa.Column("confounders", sa.JSON(), nullable=False),
        sa.Column("external_factors", sa.JSON(), nullable=False),
        sa.Column("causal_graph", sa.JSON(), nullable=True),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("marketing_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_marketing_events_experiment_id"), ["experiment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_marketing_events_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_marketing_org_platform_time", ["org_id", "platform", "timestamp"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("marketing_events", schema=None) as batch_op:
        batch_op.drop_index("ix_marketing_org_platform_time")
        batch_op.drop_index(batch_op.f("ix_marketing_events_org_id"))
        batch_op.drop_index(batch_op.f("ix_marketing_events_experiment_id"))

    op.drop_table("marketing_events")
