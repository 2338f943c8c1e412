"""SQLAlchemy 2 models of the Welfare Point Territoriale.

An :class:`Organisation` (business, cooperative, municipality or admin) has
:class:`Account` s; each account has :class:`ApiToken` s, stored as the
sha256 of the token (the token itself is shown once, at creation). An
organisation publishes :class:`Offer` s; each offer serves one or more
municipalities (:class:`OfferMunicipality`, ISTAT codes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "OFFER_CATEGORIES",
    "ROLES",
    "Account",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Offer",
    "OfferMunicipality",
    "Organisation",
]

#: Organisation roles.
ROLES: tuple[str, ...] = ("business", "cooperative", "municipality", "admin")

#: Categories of territorial welfare offers, code -> (Italian, English) label.
OFFER_CATEGORIES: dict[str, tuple[str, str]] = {
    "childcare": ("Infanzia e nidi", "Childcare"),
    "elderly_care": ("Assistenza anziani", "Elderly care"),
    "transport": ("Trasporto e mobilità", "Transport"),
    "health": ("Salute e prevenzione", "Health"),
    "training": ("Formazione", "Training"),
    "leisure": ("Tempo libero e cultura", "Leisure"),
    "shopping": ("Spesa e consegne", "Shopping"),
    "digital": ("Assistenza digitale", "Digital help"),
}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Base(DeclarativeBase):
    """Declarative base of the territorio database."""


class Organisation(Base):
    """An organisation taking part in the WPT."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    pro_com_t: Mapped[str | None] = mapped_column(String(6), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    #: Soft deletion by an administrator: its tokens stop working, its offers are
    #: deleted with it; the rows stay for the audit trail.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    accounts: Mapped[list[Account]] = relationship(back_populates="organisation")


class Account(Base):
    """A person or system acting for an organisation."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    organisation: Mapped[Organisation] = relationship(back_populates="accounts")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="account")


class ApiToken(Base):
    """An API token; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the token, to tell tokens apart in listings.
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    account: Mapped[Account] = relationship(back_populates="tokens")


class Offer(Base):
    """A territorial welfare offer published by an organisation."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(30), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    #: Municipality containing the offer's location (null outside the area).
    pro_com_t: Mapped[str | None] = mapped_column(String(6), nullable=True)
    contact: Mapped[str] = mapped_column(String(300), default="")
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: Soft deletion (with its organisation): never listed nor served again.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )

    served: Mapped[list[OfferMunicipality]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferMunicipality.pro_com_t"
    )
    organisation: Mapped[Organisation] = relationship()

    @property
    def municipalities(self) -> list[str]:
        """ISTAT codes of the municipalities served."""
        return [m.pro_com_t for m in self.served]


class OfferMunicipality(Base):
    """A municipality served by an offer."""

    __tablename__ = "offer_municipalities"
    __table_args__ = (Index("ix_offer_municipalities_pro_com_t", "pro_com_t"),)

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    pro_com_t: Mapped[str] = mapped_column(String(6), primary_key=True)

    offer: Mapped[Offer] = relationship(back_populates="served")


class AuditEvent(Base):
    """Who did what to which account, token or organisation, and when (admin actions)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    #: The acting account (None for the bootstrap administrator or once deleted).
    actor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    #: The actor as shown: the account's e-mail, or ``"bootstrap-admin"``.
    actor: Mapped[str] = mapped_column(String(320))
    #: e.g. ``account.deactivate``, ``token.revoke``, ``organisation.delete``.
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int] = mapped_column(Integer)
    #: What changed, as JSON text (e.g. the offers deleted with an organisation).
    detail: Mapped[str] = mapped_column(Text, default="{}")
