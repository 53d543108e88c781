"""Partners and the API (issue 17): partner organisations, their users, API keys, referrals.

Adds the tables partners, api_keys and referrals; users.partner_id and the "partner" role;
the "partner" channel of a request; rpps_entries (the national directory, `import-rpps`).

Revision ID: wave2_17_partners_api
Revises: wave2_16_security
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guichet.db

revision: str = "wave2_17_partners_api"
down_revision: str | None = "wave2_16_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('staff', 'admin', 'doctor')"
ROLES_AFTER = "role IN ('staff', 'admin', 'doctor', 'partner')"
CHANNELS_BEFORE = "channel IN ('web', 'phone', 'import')"
CHANNELS_AFTER = "channel IN ('web', 'phone', 'import', 'partner')"


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('hospital', 'pharmacy', 'social', 'sas')", name=op.f("ck_partners_kind")),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"],
                                name=op.f("fk_partners_territory_id_territories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partners_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=5), nullable=False),
        sa.Column("created_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.Column("last_used_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("scope IN ('read', 'write')", name=op.f("ck_api_keys_scope")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_api_keys_created_by_id_users")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_api_keys_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("discharge_date", sa.Date(), nullable=True),
        sa.Column("fragility_reason", sa.String(length=20), nullable=True),
        sa.Column("target_delay_days", sa.Integer(), nullable=True),
        sa.Column("target_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.Column("created_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("(fragility_reason IS NULL) = (target_delay_days IS NULL)",
                           name=op.f("ck_referrals_fragile_has_delay")),
        sa.CheckConstraint("target_delay_days IS NULL OR (target_delay_days >= 1 AND target_delay_days <= 90)",
                           name=op.f("ck_referrals_target_delay_range")),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_referrals_api_key_id_api_keys")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_referrals_partner_id_partners")),
        sa.ForeignKeyConstraint(["request_id"], ["patient_requests.id"],
                                name=op.f("fk_referrals_request_id_patient_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_referrals_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("request_id", name=op.f("uq_referrals_request_id")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_partner", ["partner_id", "id"], unique=False)
        batch_op.create_index("ix_referrals_target", ["target_dt"], unique=False)

    op.create_table(
        "rpps_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("profession", sa.String(length=80), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        sa.Column("practice_name", sa.String(length=150), nullable=False),
        sa.Column("practice_address", sa.String(length=250), nullable=False),
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("imported_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rpps_entries")),
    )
    with op.batch_alter_table("rpps_entries", schema=None) as batch_op:
        batch_op.create_index("ix_rpps_entries_rpps", ["rpps"], unique=False)
        batch_op.create_index("ix_rpps_entries_commune", ["commune_insee"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_partner_id"), ["partner_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_partner_id_partners"), "partners", ["partner_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_users_role"), ROLES_AFTER)
        batch_op.create_check_constraint(batch_op.f("ck_users_partner_has_partner"),
                                         "role != 'partner' OR partner_id IS NOT NULL")

    with op.batch_alter_table("patient_requests", schema=None) as batch_op:
        batch_op.alter_column("channel", existing_type=sa.String(length=6), type_=sa.String(length=10),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f("ck_patient_requests_channel"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_patient_requests_channel"), CHANNELS_AFTER)


def downgrade() -> None:
    with op.batch_alter_table("patient_requests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_patient_requests_channel"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_patient_requests_channel"), CHANNELS_BEFORE)
        batch_op.alter_column("channel", existing_type=sa.String(length=10), type_=sa.String(length=6),
                              existing_nullable=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_partner_has_partner"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_users_role"), ROLES_BEFORE)
        batch_op.drop_constraint(batch_op.f("fk_users_partner_id_partners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_partner_id"))
        batch_op.drop_column("partner_id")

    op.drop_table("rpps_entries")
    op.drop_table("referrals")
    op.drop_table("api_keys")
    op.drop_table("partners")
