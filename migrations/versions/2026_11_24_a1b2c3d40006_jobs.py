"""Schema changes of issue 8 (scheduled jobs); empty until that work needs one.

Revision ID: a1b2c3d40006
Revises: a1b2c3d40005
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "a1b2c3d40006"
down_revision: str | None = "a1b2c3d40005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
