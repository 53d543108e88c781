"""Schema changes of issue 4 (patient side); empty until that work needs one.

Revision ID: a1b2c3d40002
Revises: 7b1dd574a371
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "a1b2c3d40002"
down_revision: str | None = "7b1dd574a371"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
