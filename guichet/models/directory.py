"""The national directory of health professionals (RPPS), as far as the territories need it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from guichet.db import Base


class RppsEntry(Base):
    """One activity of a professional in the Annuaire Santé extraction, in a served commune.

    A professional with several practices has several rows. Reloaded whole by `import-rpps`.
    """

    __tablename__ = "rpps_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    #: e.g. Médecin (code 10)
    profession: Mapped[str] = mapped_column(String(80))
    #: e.g. Médecine générale (the "savoir-faire"); empty when the file gives none
    specialty: Mapped[str] = mapped_column(String(120), default="")
    practice_name: Mapped[str] = mapped_column(String(150), default="")
    practice_address: Mapped[str] = mapped_column(String(250), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    commune_insee: Mapped[str] = mapped_column(String(5))
    phone: Mapped[str] = mapped_column(String(20), default="")
    imported_dt: Mapped[datetime]

    __table_args__ = (Index("ix_rpps_entries_rpps", "rpps"), Index("ix_rpps_entries_commune", "commune_insee"))
