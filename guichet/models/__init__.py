"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

from guichet.models.accounts import AuditEvent, LoginThrottle, RecoveryCode, Role, User, UserToken
from guichet.models.directory import RppsEntry
from guichet.models.doctors import CapacityDeclaration, Doctor, Slot, SlotPattern, SlotStatus
from guichet.models.geo import Commune, CommunePostalCode, Territory, territory_communes
from guichet.models.matching import (
    ACTIVE_PROPOSAL_STATUSES,
    MatchingRun,
    Proposal,
    ProposalStatus,
)
from guichet.models.messages import FollowUp, Notification
from guichet.models.operations import ImportBatch, JobRun, ReferenceCounter
from guichet.models.partners import ApiKey, ApiScope, Partner, PartnerKind, Referral
from guichet.models.patients import (
    Channel,
    PairExclusion,
    Patient,
    PatientRequest,
    RequestEvent,
    RequestKind,
    RequestStatus,
    Sex,
)
from guichet.models.publication import PublishedWaitingList

__all__ = [
    "ACTIVE_PROPOSAL_STATUSES",
    "ApiKey",
    "ApiScope",
    "AuditEvent",
    "CapacityDeclaration",
    "Channel",
    "Commune",
    "CommunePostalCode",
    "Doctor",
    "FollowUp",
    "ImportBatch",
    "JobRun",
    "LoginThrottle",
    "MatchingRun",
    "Notification",
    "PairExclusion",
    "Partner",
    "PartnerKind",
    "Patient",
    "PatientRequest",
    "Proposal",
    "ProposalStatus",
    "PublishedWaitingList",
    "RecoveryCode",
    "ReferenceCounter",
    "Referral",
    "RequestEvent",
    "RequestKind",
    "RequestStatus",
    "RppsEntry",
    "Role",
    "Sex",
    "Slot",
    "SlotPattern",
    "SlotStatus",
    "Territory",
    "User",
    "UserToken",
    "territory_communes",
]
