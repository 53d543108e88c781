"""The coordinators' queue: request list (filters, sorting, pages, CSV) and dashboard counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from guichet.assignment.priority import FLAG_LABELS, HOSPITAL_DISCHARGE_WINDOW, is_reason
from guichet.models import Commune, FollowUp, Patient, PatientRequest, Proposal
from guichet.paging import page_number
from guichet.requests import identity
from guichet.timeutil import PARIS, as_utc, paris_today
from guichet.vocabulary import CHANNEL_LABELS, KIND_LABELS
from guichet.workflow import FINAL_REQUEST_STATUSES, REQUEST_STATUS_LABELS

PER_PAGE = 50
OPEN_STATUSES = [s.value for s in REQUEST_STATUS_LABELS if s not in FINAL_REQUEST_STATUSES]

#: status filter: a group or one status
STATUS_GROUPS = {"open": "En cours (toutes)", "closed": "Closes (toutes)", "all": "Toutes"}
SORTS = {
    "priority": "Priorité (la plus haute d'abord)",
    "oldest": "Attente (la plus longue d'abord)",
    "newest": "Reçues (les plus récentes d'abord)",
    "name": "Nom",
    "reference": "Référence",
}
PRIORITY_FILTERS = {
    "any": "Au moins un critère prioritaire",
    "none": "Aucun critère prioritaire",
    **{k: v for k, v in FLAG_LABELS.items() if is_reason(k)},
}
#: "waiting more than N days" choices
WAITED_CHOICES = (7, 30, 90, 180, 365)


@dataclass
class Filters:
    """What the coordinator asked the list for; every field optional."""

    kind: str = ""
    status: str = "open"
    commune: str = ""
    priority: str = ""
    channel: str = ""
    waited_days: int | None = None
    q: str = ""
    sort: str = "priority"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """Build from query-string arguments, ignoring values that are not known choices."""
        f = cls()
        kind = args.get("kind", "")
        f.kind = kind if kind in KIND_LABELS else ""
        status = args.get("status", "open")
        f.status = status if status in STATUS_GROUPS or status in REQUEST_STATUS_LABELS else "open"
        commune = (args.get("commune") or "").strip()
        f.commune = commune if commune.isalnum() and len(commune) == 5 else ""
        priority = args.get("priority", "")
        f.priority = priority if priority in PRIORITY_FILTERS else ""
        channel = args.get("channel", "")
        f.channel = channel if channel in CHANNEL_LABELS else ""
        waited = args.get("waited", "")
        f.waited_days = int(waited) if waited.isdigit() and int(waited) in WAITED_CHOICES else None
        f.q = (args.get("q") or "").strip()[:100]
        sort = args.get("sort", "priority")
        f.sort = sort if sort in SORTS else "priority"
        f.page = page_number(args.get("page"))
        return f

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link (pages, sorting), without the empty ones."""
        values = {
            "kind": self.kind, "status": self.status, "commune": self.commune,
            "priority": self.priority, "channel": self.channel,
            "waited": self.waited_days or "", "q": self.q, "sort": self.sort, "page": self.page,
        }
        values.update(changes)
        defaults = {"status": "open", "sort": "priority", "page": 1}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    def audit_codes(self) -> dict[str, Any]:
        """The filters as codes for an audit row: whether a search was typed, never its text."""
        codes = {k: v for k, v in self.as_args(page=self.page).items() if k != "q"}
        return codes | {"searched": bool(self.q)}


@dataclass
class Page:
    """One page of the request list."""

    rows: list[tuple[PatientRequest, Patient]]
    total: int
    page: int
    per_page: int
    commune_names: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def flag_condition(flag: str, today: date) -> ColumnElement[bool]:
    """SQL condition true when the patient has this priority flag today (same rule as priority.py)."""
    if flag == "ald":
        return Patient.is_ald.is_(True)
    if flag == "age_70":
        return and_(Patient.birth_date.is_not(None), Patient.birth_date <= _years_before(today, 70))
    if flag == "css":
        return Patient.is_css.is_(True)
    if flag == "pregnancy":
        return Patient.is_pregnant.is_(True)
    if flag == "hospital_discharge":
        return and_(Patient.hospital_discharge_date.is_not(None),
                    Patient.hospital_discharge_date.between(today - HOSPITAL_DISCHARGE_WINDOW, today))
    if flag == "disability":
        return Patient.is_disabled.is_(True)
    if flag == "previous_mt_left":
        return Patient.previous_mt_left_date.is_not(None)
    raise ValueError(flag)


def any_flag_condition(today: date) -> ColumnElement[bool]:
    flags = [k for k in FLAG_LABELS if is_reason(k)]
    return or_(*(flag_condition(f, today) for f in flags))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(territory_id: int, f: Filters, now: datetime) -> tuple[list[ColumnElement[bool]], bool]:
    """The WHERE clauses of the filters, and whether they need the patients table."""
    today = paris_today(now)
    conds: list[ColumnElement[bool]] = [PatientRequest.territory_id == territory_id]
    needs_patient = False
    if f.kind:
        conds.append(PatientRequest.kind == f.kind)
    if f.status == "open":
        conds.append(PatientRequest.status.in_(OPEN_STATUSES))
    elif f.status == "closed":
        conds.append(PatientRequest.status.in_(list(FINAL_REQUEST_STATUSES)))
    elif f.status != "all":
        conds.append(PatientRequest.status == f.status)
    if f.channel:
        conds.append(PatientRequest.channel == f.channel)
    if f.waited_days:
        conds.append(PatientRequest.waiting_since_dt <= now - timedelta(days=f.waited_days))
    if f.commune:
        conds.append(Patient.commune_insee == f.commune)
        needs_patient = True
    if f.priority == "any":
        conds.append(any_flag_condition(today))
        needs_patient = True
    elif f.priority == "none":
        conds.append(not_(any_flag_condition(today)))
        needs_patient = True
    elif f.priority:
        conds.append(flag_condition(f.priority, today))
        needs_patient = True
    if f.q:
        # names are searched in their folded form: case and accents do not matter
        pattern = f"%{_escape_like(f.q.lower())}%"
        folded = identity.fold_name(f.q)
        conds.append(or_(
            func.lower(PatientRequest.reference).like(pattern, escape="\\"),
            # only letters and digits survive the folding: "%" alone searches no name
            Patient.search_name.like(f"%{folded}%") if folded else false(),
        ))
        needs_patient = True
    return conds, needs_patient


def _order_by(sort: str) -> tuple[list[Any], bool]:
    """ORDER BY columns for a sort choice, and whether they need the patients table."""
    if sort == "oldest":
        return [PatientRequest.waiting_since_dt, PatientRequest.id], False
    if sort == "newest":
        return [PatientRequest.submitted_dt.desc(), PatientRequest.id.desc()], False
    if sort == "name":
        return [Patient.birth_name, Patient.first_names, PatientRequest.id], True
    if sort == "reference":
        return [PatientRequest.reference], False
    return [PatientRequest.priority_score.desc(), PatientRequest.waiting_since_dt, PatientRequest.id], False


def _ids_query(territory_id: int, f: Filters, now: datetime, columns: list[Any]) -> Select[Any]:
    conds, needs_patient = _conditions(territory_id, f, now)
    order, order_needs_patient = _order_by(f.sort)
    query = select(*columns).select_from(PatientRequest)
    if needs_patient or order_needs_patient:
        query = query.join(Patient, Patient.id == PatientRequest.patient_id)
    return query.where(*conds).order_by(*order)


def _count(db: Session, territory_id: int, filters: Filters, now: datetime) -> int:
    conds, needs_patient = _conditions(territory_id, filters, now)
    count = select(func.count()).select_from(PatientRequest)
    if needs_patient:
        count = count.join(Patient, Patient.id == PatientRequest.patient_id)
    return int(db.scalar(count.where(*conds)) or 0)


def _searched_page(db: Session, territory_id: int, filters: Filters, now: datetime,
                   per_page: int) -> tuple[list[int], int, int]:
    def page_of(page_no: int) -> list[Any]:
        return list(db.execute(
            _ids_query(territory_id, filters, now, [PatientRequest.id, func.count().over()])
            .limit(per_page).offset((page_no - 1) * per_page)
        ))

    page_no = max(1, filters.page)
    found = page_of(page_no)
    if not found and page_no > 1:  # past the end: the last page
        page_no = max(1, -(-_count(db, territory_id, filters, now) // per_page))
        found = page_of(page_no)
    return [row[0] for row in found], int(found[0][1]) if found else 0, page_no


def request_ids(db: Session, territory_id: int, filters: Filters, *, now: datetime) -> list[int]:
    """Ids of every request of the territory matching the filters, in the filters' order.

    For a list that ranks its rows itself (the waiting list): the same filters, the same
    rules (priority reasons, waiting time, the folded name search) as the request list.
    """
    return list(db.scalars(_ids_query(territory_id, filters, now, [PatientRequest.id])))


def list_requests(db: Session, territory_id: int, filters: Filters, *, now: datetime,
                  per_page: int = PER_PAGE) -> Page:
    """One page of the territory's requests matching the filters, with the total count.

    The count and the page select narrow rows (ids), joining patients only when a filter or
    the sort needs them (a text search counts with the page, in one scan); the 50 full rows
    are then loaded by id (a "deferred join").
    """
    if filters.q:
        # a text search scans the names once: the total rides along with the page (window count)
        ids, total, page_no = _searched_page(db, territory_id, filters, now, per_page)
    else:
        # the count reads an index only, and the page is the top of an index (priority order)
        total = _count(db, territory_id, filters, now)
        page_no = min(filters.page, max(1, -(-total // per_page)))
        ids = list(db.scalars(_ids_query(territory_id, filters, now, [PatientRequest.id])
                              .limit(per_page).offset((page_no - 1) * per_page)))
    loaded: dict[int, tuple[PatientRequest, Patient]] = {}
    if ids:
        for req, patient in db.execute(
            select(PatientRequest, Patient).join(Patient, Patient.id == PatientRequest.patient_id)
            .where(PatientRequest.id.in_(ids))
        ):
            loaded[req.id] = (req, patient)
    rows = [loaded[i] for i in ids]
    codes = {p.commune_insee for _, p in rows if p.commune_insee}
    names = dict(db.execute(select(Commune.insee, Commune.name).where(Commune.insee.in_(codes))).all()) if codes else {}
    return Page(rows=rows, total=total, page=page_no, per_page=per_page, commune_names=names)


CSV_HEADERS = [
    "Référence", "Type", "Statut", "Canal", "Nom", "Nom d'usage", "Prénom(s)", "Date de naissance",
    "Téléphone", "Code postal", "Commune", "Score de priorité", "Critères prioritaires",
    "Reçue le", "En attente depuis (jours)",
]


def csv_rows(db: Session, territory_id: int, filters: Filters, *, now: datetime) -> Iterator[str]:
    """The filtered list as CSV text chunks: UTF-8 with BOM (Excel), semicolons, French headers.

    Streams by chunks of 500 rows so that 20,000 requests never sit in memory at once.
    """
    names = dict(db.execute(
        select(Commune.insee, Commune.name).join(
            Patient, Patient.commune_insee == Commune.insee
        ).where(Patient.territory_id == territory_id).distinct()
    ).all())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADERS)
    today = paris_today(now)
    columns = [
        PatientRequest.reference, PatientRequest.kind, PatientRequest.status, PatientRequest.channel,
        Patient.birth_name, Patient.usage_name, Patient.first_names, Patient.birth_date, Patient.phone,
        Patient.postal_code, Patient.commune_insee, PatientRequest.priority_score,
        PatientRequest.priority_breakdown, PatientRequest.submitted_dt, PatientRequest.waiting_since_dt,
    ]
    conds, _ = _conditions(territory_id, filters, now)
    order, _ = _order_by(filters.sort)
    query = (select(*columns).join(Patient, Patient.id == PatientRequest.patient_id)
             .where(*conds).order_by(*order).execution_options(yield_per=1000))
    for n, row in enumerate(db.execute(query), start=1):
        (reference, kind, status, channel, birth_name, usage_name, first_names, birth_date, phone,
         postal_code, insee, score, breakdown, submitted, since) = row
        flags = [FLAG_LABELS[k] for k in (breakdown or {}) if is_reason(k) and k in FLAG_LABELS]
        writer.writerow([
            reference, KIND_LABELS.get(kind, kind),
            REQUEST_STATUS_LABELS.get(status, status),
            CHANNEL_LABELS.get(channel, channel),
            _cell(birth_name), _cell(usage_name or ""), _cell(first_names),
            birth_date.strftime("%d/%m/%Y") if birth_date else "",
            phone or "", postal_code or "", names.get(insee or "", ""), f"{score:g}", ", ".join(flags),
            as_utc(submitted).astimezone(PARIS).strftime("%d/%m/%Y"),
            max(0, (today - as_utc(since).astimezone(PARIS).date()).days),
        ])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(text: str) -> str:
    # a cell starting with = + - @ would be run as a formula by a spreadsheet
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass
class Dashboard:
    """The numbers a coordinator needs this morning."""

    submitted: dict[str, int]
    to_contact: int
    waiting_mt_priority: int
    waiting_mt_other: int
    waiting_snp: int
    proposals_to_review: int
    proposals_awaiting_gp: int
    snp_today: int
    snp_today_open: int
    follow_ups_overdue: int
    longest_wait_days: int | None


def dashboard(db: Session, territory_id: int, *, now: datetime) -> Dashboard:
    """Counts for the territory's dashboard (a handful of indexed aggregate queries)."""
    today = paris_today(now)
    in_territory = PatientRequest.territory_id == territory_id
    by_kind_status = {
        (k, s): n
        for k, s, n in db.execute(
            select(PatientRequest.kind, PatientRequest.status, func.count())
            .where(in_territory, PatientRequest.status.in_(OPEN_STATUSES))
            .group_by(PatientRequest.kind, PatientRequest.status)
        )
    }
    priority_waiting = db.scalar(
        select(func.count()).select_from(PatientRequest)
        .join(Patient, Patient.id == PatientRequest.patient_id)
        .where(in_territory, PatientRequest.kind == "mt", PatientRequest.status == "waiting",
               any_flag_condition(today))
    ) or 0
    proposals = dict(
        db.execute(
            select(Proposal.status, func.count())
            .join(PatientRequest, PatientRequest.id == Proposal.request_id)
            .where(in_territory, Proposal.status.in_(["proposed", "sent"]))
            .group_by(Proposal.status)
        ).all()
    )
    start = datetime.combine(today, time(0), tzinfo=PARIS)
    end = start + timedelta(days=1)
    snp_today = db.execute(
        select(PatientRequest.status, func.count())
        .where(in_territory, PatientRequest.kind == "snp",
               PatientRequest.submitted_dt >= start, PatientRequest.submitted_dt < end)
        .group_by(PatientRequest.status)
    ).all()
    overdue = db.scalar(
        select(func.count()).select_from(FollowUp)
        .join(PatientRequest, PatientRequest.id == FollowUp.request_id)
        .where(in_territory, FollowUp.done_dt.is_(None), FollowUp.due_dt < now)
    ) or 0
    oldest = db.scalar(
        select(func.min(PatientRequest.waiting_since_dt))
        .where(in_territory, PatientRequest.kind == "mt", PatientRequest.status == "waiting")
    )
    waiting_mt = by_kind_status.get(("mt", "waiting"), 0)
    return Dashboard(
        submitted={k: by_kind_status.get((k, "submitted"), 0) for k in KIND_LABELS},
        to_contact=by_kind_status.get(("mt", "to_contact"), 0),
        waiting_mt_priority=priority_waiting,
        waiting_mt_other=waiting_mt - priority_waiting,
        waiting_snp=by_kind_status.get(("snp", "waiting"), 0),
        proposals_to_review=proposals.get("proposed", 0),
        proposals_awaiting_gp=proposals.get("sent", 0),
        snp_today=sum(n for _, n in snp_today),
        snp_today_open=sum(n for s, n in snp_today if s in ("submitted", "waiting")),
        follow_ups_overdue=overdue,
        longest_wait_days=(today - as_utc(oldest).astimezone(PARIS).date()).days if oldest else None,
    )


def to_contact_list(db: Session, territory_id: int, *, page: int = 1,
                    per_page: int = PER_PAGE) -> Page:
    """Imported patients still to call, the oldest import first."""
    query = (
        select(PatientRequest, Patient)
        .join(Patient, Patient.id == PatientRequest.patient_id)
        .where(PatientRequest.territory_id == territory_id, PatientRequest.status == "to_contact")
    )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.execute(
        query.order_by(PatientRequest.priority_score.desc(), PatientRequest.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    codes = {p.commune_insee for _, p in rows if p.commune_insee}
    names = dict(db.execute(select(Commune.insee, Commune.name).where(Commune.insee.in_(codes))).all()) if codes else {}
    return Page(rows=list(rows), total=total, page=page, per_page=per_page, commune_names=names)


def territory_communes(db: Session, territory_id: int) -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes where the territory's patients live, for the filter."""
    from guichet.models import territory_communes as tc

    return list(db.execute(
        select(Commune.insee, Commune.name)
        .join(tc, tc.c.commune_insee == Commune.insee)
        .where(tc.c.territory_id == territory_id)
        .order_by(Commune.name)
    ).all())

