"""The coordinators' queue: request list (filters, sorting, pages, CSV) and dashboard counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, not_, or_, select, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from guichet.assignment.priority import FLAG_LABELS, HOSPITAL_DISCHARGE_WINDOW, is_reason
from guichet.models import Commune, FollowUp, Patient, PatientRequest, Proposal, Referral
from guichet.models.patients import patient_display_name
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
    """What the coordinator asked the list for; every field optional.

    `after` / `before` are keyset cursors: the id of the last (first) request of the page
    the coordinator comes from; the next (previous) page starts right after (before) it
    in the chosen order. Neither is a filter: the CSV export ignores them.
    """

    kind: str = ""
    status: str = "open"
    commune: str = ""
    priority: str = ""
    channel: str = ""
    waited_days: int | None = None
    q: str = ""
    sort: str = "priority"
    after: int | None = None
    before: int | None = None

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
        f.after, f.before = _cursor(args.get("after", "")), _cursor(args.get("before", ""))
        if f.after is not None:
            f.before = None
        return f

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments of the filters for a link (export, next page), without the empty ones.

        The cursors are left out unless given in `changes` (after=…, before=…).
        """
        values = {
            "kind": self.kind, "status": self.status, "commune": self.commune,
            "priority": self.priority, "channel": self.channel,
            "waited": self.waited_days or "", "q": self.q, "sort": self.sort,
        }
        values.update(changes)
        defaults = {"status": "open", "sort": "priority"}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    def audit_codes(self) -> dict[str, Any]:
        """The filters as codes for an audit row: whether a search was typed, never its text."""
        codes = {k: v for k, v in self.as_args(after=self.after, before=self.before).items() if k != "q"}
        return codes | {"searched": bool(self.q)}


def _cursor(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the request list, every label already in French (the page shows 50 at once)."""

    id: int
    reference: str
    patient_name: str
    birth_date: date | None
    commune: str
    kind: str
    channel: str
    status: str
    score: str
    flags: tuple[str, ...]
    target_dt: datetime | None
    waiting_since_dt: datetime


@dataclass
class QueuePage:
    """One page of the request list (keyset paging) and the number of requests matching the filters."""

    rows: list[QueueRow]
    total: int
    #: cursor of the next page (the last row's id), None on the last page
    next_after: int | None
    #: cursor of the previous page (the first row's id), None on the first page
    previous_before: int | None
    #: the territory's communes (INSEE code, name) by name, for the commune filter
    communes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """One page of a numbered list (the calls to make)."""

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


def _search_condition(text: str, communes: list[tuple[str, str]]) -> ColumnElement[bool]:
    """A request whose reference, patient's names or patient's commune contain `text`.

    Names and communes are compared folded (identity.fold_name: no accents, no case, hyphens
    and spaces alike; "st" is "saint" in a place name); the communes are the territory's (those
    of the commune filter), matched here, so that the database only sees their codes. The
    requests found by reference and those found through their patient are united by id, so
    that on PostgreSQL each side reads its own trigram index (an OR across the two tables
    would read every request).
    """
    folded = identity.fold_name(text)
    codes = [insee for insee, name in communes if identity.place_matches(text, name)]
    # only letters and digits survive the folding: "%" alone searches no name
    patients = [c for c in (Patient.search_name.like(f"%{folded}%") if folded else None,
                            Patient.commune_insee.in_(codes) if codes else None) if c is not None]
    by_reference = select(PatientRequest.id).where(
        PatientRequest.reference.ilike(f"%{_escape_like(text)}%", escape="\\"))
    if not patients:
        return PatientRequest.id.in_(by_reference)
    by_patient = (select(PatientRequest.id).join(Patient, Patient.id == PatientRequest.patient_id)
                  .where(or_(*patients)))
    return PatientRequest.id.in_(union(by_reference, by_patient))


def _conditions(territory_id: int, f: Filters, now: datetime,
                communes: list[tuple[str, str]]) -> tuple[list[ColumnElement[bool]], bool]:
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
        conds.append(_search_condition(f.q, communes))
    return conds, needs_patient


def _sort_keys(sort: str, request: Any, patient: Any) -> list[tuple[Any, bool]]:
    """(column, descending) of a sort choice, ending with the id so that the order is total."""
    if sort == "oldest":
        return [(request.waiting_since_dt, False), (request.id, False)]
    if sort == "newest":
        return [(request.submitted_dt, True), (request.id, True)]
    if sort == "name":
        return [(patient.birth_name, False), (patient.first_names, False), (request.id, False)]
    if sort == "reference":
        return [(request.reference, False), (request.id, False)]
    return [(request.priority_score, True), (request.waiting_since_dt, False), (request.id, False)]


def _beyond(keys: list[tuple[Any, bool]], anchor: list[Any], backwards: bool) -> ColumnElement[bool]:
    """Rows strictly after the anchor's values in this order (before it when `backwards`).

    (k1, k2, id) after (a1, a2, a3): k1 beyond a1, or k1 = a1 and k2 beyond a2, or … The
    first key is also bounded on its own (k1 >= a1), which an index can start from.
    """
    def past(column: Any, value: Any, desc: bool) -> ColumnElement[bool]:
        return column < value if desc != backwards else column > value

    alternatives = []
    for i, ((column, desc), value) in enumerate(zip(keys, anchor, strict=True)):
        equal = [c == v for (c, _), v in zip(keys[:i], anchor[:i], strict=True)]
        alternatives.append(and_(*equal, past(column, value, desc)))
    first, first_desc = keys[0]
    bound = first <= anchor[0] if first_desc != backwards else first >= anchor[0]
    return and_(bound, or_(*alternatives))


ROW_COLUMNS = (
    PatientRequest.id, PatientRequest.reference, PatientRequest.kind, PatientRequest.channel,
    PatientRequest.status, PatientRequest.priority_score, PatientRequest.priority_breakdown,
    PatientRequest.waiting_since_dt, Patient.birth_name, Patient.usage_name, Patient.first_names,
    Patient.birth_date, Commune.name, Referral.target_dt,
)


def _row(values: Any) -> QueueRow:
    (rid, reference, kind, channel, status, score, breakdown, since, birth_name, usage_name, first_names,
     birth_date, commune, target_dt) = values
    return QueueRow(
        id=rid, reference=reference, patient_name=patient_display_name(birth_name, usage_name, first_names),
        birth_date=birth_date, commune=commune or "", kind=KIND_LABELS.get(kind, kind),
        channel=CHANNEL_LABELS.get(channel, channel), status=REQUEST_STATUS_LABELS.get(status, status),
        score=f"{score:g}", flags=_flag_labels(breakdown), target_dt=target_dt, waiting_since_dt=since,
    )


def _flag_labels(breakdown: dict[str, Any] | None) -> tuple[str, ...]:
    """The French names of the priority reasons of a score breakdown (not its waiting-time points)."""
    return tuple(FLAG_LABELS.get(k, k) for k in (breakdown or {}) if is_reason(k))


def _ids_query(f: Filters, conds: list[ColumnElement[bool]], needs_patient: bool, *,
               anchor: list[Any] | None = None, backwards: bool = False) -> Select[Any]:
    """The ids of the matching requests in the filters' order (reversed when `backwards`), past the anchor."""
    keys = _sort_keys(f.sort, PatientRequest, Patient)
    ids = select(PatientRequest.id).select_from(PatientRequest)
    if needs_patient or f.sort == "name":
        ids = ids.join(Patient, Patient.id == PatientRequest.patient_id)
    ids = ids.where(*conds)
    if anchor is not None:
        ids = ids.where(_beyond(keys, anchor, backwards))
    return ids.order_by(*_order(keys, backwards))


def _order(keys: list[tuple[Any, bool]], backwards: bool) -> list[Any]:
    return [(c.desc() if desc != backwards else c.asc()) for c, desc in keys]


def _page_query(f: Filters, conds: list[ColumnElement[bool]], needs_patient: bool, *,
                anchor: list[Any] | None, backwards: bool, limit: int) -> Select[Any]:
    """The rows of one page in one statement: request, patient, commune name, referral's target date.

    The page's ids are chosen first on narrow rows (joining patients only when a filter or the
    sort needs them), then only those rows are joined to the rest: SQLite, which has no index
    for the order, then sorts ids rather than whole joined rows.
    """
    page = _ids_query(f, conds, needs_patient, anchor=anchor, backwards=backwards).limit(limit).subquery()
    return (
        select(*ROW_COLUMNS).select_from(page)
        .join(PatientRequest, PatientRequest.id == page.c.id)
        .join(Patient, Patient.id == PatientRequest.patient_id)
        .outerjoin(Commune, Commune.insee == Patient.commune_insee)
        .outerjoin(Referral, Referral.request_id == PatientRequest.id)
        .order_by(*_order(_sort_keys(f.sort, PatientRequest, Patient), backwards))
    )


def _anchor(db: Session, territory_id: int, sort: str, request_id: int) -> list[Any] | None:
    """The sort values of the cursor's request (of this territory), None when there is no such request.

    The cursor in the URL is only an id: no name travels in a link, and the values are read here.
    """
    columns = [c for c, _ in _sort_keys(sort, PatientRequest, Patient)]
    row = db.execute(
        select(*columns).select_from(PatientRequest).join(Patient, Patient.id == PatientRequest.patient_id)
        .where(PatientRequest.id == request_id, PatientRequest.territory_id == territory_id)
    ).first()
    return list(row) if row is not None else None


def request_ids(db: Session, territory_id: int, filters: Filters, *, now: datetime) -> list[int]:
    """Ids of every request of the territory matching the filters, in the filters' order.

    For a list that ranks its rows itself (the waiting list): the same filters, the same
    rules (priority reasons, waiting time, the folded name and commune search) as the request list.
    """
    conds, needs_patient = _conditions(territory_id, filters, now,
                                       territory_communes(db, territory_id) if filters.q else [])
    return list(db.scalars(_ids_query(filters, conds, needs_patient)))


def list_requests(db: Session, territory_id: int, filters: Filters, *, now: datetime,
                  per_page: int | None = None) -> QueuePage:
    """One page of the territory's requests matching the filters, with the total count.

    Keyset paging: a page is the `per_page` rows after (or before) a cursor request in the
    chosen order, read from the top of an index rather than past the rows of the previous
    pages. At most four statements whatever the page size: the territory's communes, the
    count, the cursor's sort values, the page (requests with their patient, commune and
    referral in one join). A cursor that leads nowhere (its request gone, nothing left beyond
    it) gives the first page.
    """
    per_page = per_page or PER_PAGE
    communes = territory_communes(db, territory_id)
    conds, needs_patient = _conditions(territory_id, filters, now, communes)
    count = select(func.count()).select_from(PatientRequest)
    if needs_patient:
        count = count.join(Patient, Patient.id == PatientRequest.patient_id)
    total = int(db.scalar(count.where(*conds)) or 0)

    def fetch(anchor: list[Any] | None, backwards: bool) -> list[Any]:
        return list(db.execute(_page_query(filters, conds, needs_patient, anchor=anchor, backwards=backwards,
                                           limit=per_page + 1)))

    cursor = filters.after if filters.after is not None else filters.before
    anchor = _anchor(db, territory_id, filters.sort, cursor) if cursor is not None and total else None
    found: list[Any] = []
    has_previous = has_next = False
    if anchor is not None and filters.before is not None:
        found = fetch(anchor, backwards=True)
        if len(found) > per_page:  # a full page, and more before it
            found = found[:per_page][::-1]
            has_previous = has_next = True
        else:  # the start of the list is reached: the first page, full
            found = []
    elif anchor is not None:
        found = fetch(anchor, backwards=False)
        has_previous = bool(found)
        has_next = len(found) > per_page
    if not found:
        found = fetch(None, backwards=False)
        has_next = len(found) > per_page
    rows = [_row(values) for values in found[:per_page]]
    return QueuePage(
        rows=rows, total=total,
        next_after=rows[-1].id if has_next else None,
        previous_before=rows[0].id if has_previous else None,
        communes=communes,
    )


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
    conds, _ = _conditions(territory_id, filters, now, territory_communes(db, territory_id))
    order = _order(_sort_keys(filters.sort, PatientRequest, Patient), backwards=False)
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

