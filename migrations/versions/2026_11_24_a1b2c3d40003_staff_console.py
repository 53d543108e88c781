"""Schema changes of issue 5 (staff console part 1); empty until that work needs one.

Revision ID: a1b2c3d40003
Revises: a1b2c3d40002
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "a1b2c3d40003"
down_revision: str | None = "a1b2c3d40002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
