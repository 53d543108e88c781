"""Reference geography and territories."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base

if TYPE_CHECKING:
    from guichet.models.doctors import Doctor

territory_communes = Table(
    "territory_communes",
    Base.metadata,
    Column("territory_id", ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_insee", ForeignKey("communes.insee"), primary_key=True, index=True),
)


class Commune(Base):
    """A French commune (COG 2024) or municipal arrondissement, with its position."""

    __tablename__ = "communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str] = mapped_column(String(3))
    #: COM (commune) or ARM (municipal arrondissement of Paris, Lyon, Marseille)
    kind: Mapped[str] = mapped_column(String(4))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    #: true when the reference data had no point and we took the centroid of the
    #: other communes sharing its postal code
    is_position_approximate: Mapped[bool] = mapped_column(default=False)
    population: Mapped[int] = mapped_column(default=0)
    area_km2: Mapped[float] = mapped_column(default=0.0)

    postal_codes: Mapped[list[CommunePostalCode]] = relationship(
        back_populates="commune", order_by="CommunePostalCode.postal_code"
    )

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None

    def __repr__(self) -> str:
        return f"<Commune {self.insee} {self.name}>"


class CommunePostalCode(Base):
    """One postal code of a commune, with the name people know it by there.

    A commune déléguée (an old village merged into a commune nouvelle) appears here
    under its own name so that a patient can find it, pointing to the commune.
    """

    __tablename__ = "commune_postal_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    postal_code: Mapped[str] = mapped_column(String(5), index=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"), index=True)
    #: the name shown in the picker ("Villotran (Les Hauts-Talican)" for a commune déléguée)
    label: Mapped[str] = mapped_column(String(200))
    commune: Mapped[Commune] = relationship(back_populates="postal_codes")

    __table_args__ = (UniqueConstraint("postal_code", "commune_insee", "label"),)


class Territory(Base):
    """A CPTS: its communes and its settings (priority weights, radii, delays)."""

    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    departement: Mapped[str | None] = mapped_column(String(3))
    #: overrides of guichet.territories.settings.DEFAULT_SETTINGS
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: run the matching every night
    is_auto_matching: Mapped[bool] = mapped_column(default=False)
    #: approved proposals go to GPs without a coordinator's review
    is_auto_approval: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime]

    communes: Mapped[list[Commune]] = relationship(
        secondary=territory_communes, order_by=Commune.name
    )
    doctors: Mapped[list[Doctor]] = relationship(back_populates="territory")

    def __repr__(self) -> str:
        return f"<Territory {self.slug}>"
