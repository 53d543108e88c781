"""The rules simulator: replay months of a territory under several allocation policies.

Pure (neither Flask nor a database): :mod:`guichet.assignment.scenario` reads the
territory into a :class:`Scenario`, :func:`simulate` replays it.

What one replay does, the same for every policy
------------------------------------------------
* The arrivals are drawn once from the seed (a Poisson number a day at the scenario's
  yearly rate, a commune by population, the priority reasons by the scenario's shares, a
  radius among the patients' observed radii); every policy sees the same people.
* Every GP receives his declared capacity month by month (fractions carried over); a
  place not given stays for the next run.
* Every night (02:30, Paris) the policy proposes patients to GPs with a free place, within
  both radii, never a pair already refused, never a patient without the reasons a
  "priority patients only" GP asked for. A GP refuses a proposal with the scenario's
  refusal rate; the draw belongs to the pair, so a pair refused under one policy is
  refused under all. The answer comes the same day; a refused place is offered again the
  next night.

The policies
------------
* ``fcfs``: one list by arrival; the longest-waiting patient takes the nearest free place.
* ``nearest``: each GP in turn takes the nearest waiting patients (earlier first at equal
  distance), whatever their situation.
* ``current`` / ``proposed``: the matching engine, with the weight of
  :func:`guichet.assignment.priority.engine_weight` under the territory's settings or the
  proposed ones (the very rule the nightly run applies).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from guichet.assignment.priority import DEFAULT_WEIGHTS, Situation, engine_weight, guarantee_days, priority_flags
from guichet.matching import Demand, Offer, Problem, solve
from guichet.matching.geo import haversine_np

#: reasons drawn for simulated arrivals (Situation fields follow from them)
REASONS = ("ald", "age_70", "css", "pregnancy", "hospital_discharge", "disability", "previous_mt_left")
#: the reasons of the "ALD ou 70 ans et plus" indicator
ALD_OR_70 = ("ald", "age_70")
#: orders of magnitude used when the territory has too little history (said on screen):
#: ALD ≈ 20 % of those insured, 70 + ≈ 15 % of the population, CSS ≈ 11 %, births ≈ 1 %,
#: AAH ≈ 2 %; hospital discharges and departed GPs have no published share (guesses)
NATIONAL_SHARES: dict[str, float] = {
    "ald": 0.20, "age_70": 0.15, "css": 0.11, "pregnancy": 0.01,
    "hospital_discharge": 0.03, "disability": 0.02, "previous_mt_left": 0.20,
}
#: arrivals a year per inhabitant when the territory has no history (an assumption)
NATIONAL_ARRIVALS_PER_INHABITANT = 0.02
#: the share of proposals a GP refuses when the territory has no answered proposal yet
DEFAULT_REFUSAL_RATE = 0.15
#: the radius of a simulated patient when the territory has no history (km)
DEFAULT_PATIENT_KM = 10.0
#: the threshold of "waiting beyond the guarantee" when no rule sets one (days)
FALLBACK_THRESHOLD_DAYS = 180
MONTH_DAYS = 365.25 / 12
#: the nightly run (Paris, winter time: 01:30 UTC)
RUN_OFFSET = timedelta(hours=1, minutes=30)

POLICIES = ("fcfs", "nearest", "current", "proposed")
POLICY_LABELS = {
    "fcfs": "Premier arrivé, premier servi",
    "nearest": "Chaque médecin choisit les plus proches",
    "current": "Règles actuelles",
    "proposed": "Règles proposées",
}


@dataclass(frozen=True)
class SimCommune:
    insee: str
    name: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True)
class SimDoctor:
    id: int
    lat: float
    lon: float
    #: places released each month (may be fractional: carried over)
    monthly_places: float
    max_km: float
    #: "priority patients only": the reasons accepted (empty: any reason); None: everyone
    priority_flags: frozenset[str] | None = None


@dataclass(frozen=True)
class SimWaiting:
    """A request already waiting when the replay starts."""

    #: index in Scenario.communes
    commune: int
    since: datetime
    km: float
    situation: Situation


@dataclass(frozen=True)
class Scenario:
    """A territory as the simulator sees it, with where each figure comes from."""

    territory: str
    start: datetime
    communes: tuple[SimCommune, ...]
    doctors: tuple[SimDoctor, ...]
    arrivals_per_year: float
    shares: Mapping[str, float]
    patient_km: tuple[float, ...]
    refusal_rate: float
    #: the territory's own settings (the "current" rules)
    settings: Mapping[str, Any]
    #: MT requests of the last 12 months used for the rate and the mix (0: national figures)
    history_requests: int = 0
    #: answered proposals of the last 12 months behind the refusal rate (0: default rate)
    answered_proposals: int = 0
    #: the territory's waiting list when the replay starts
    waiting: tuple[SimWaiting, ...] = ()
    #: the distance a patient accepts when the form does not say (setting default_patient_km)
    default_km: float = DEFAULT_PATIENT_KM


@dataclass
class PolicyMetrics:
    policy: str
    label: str
    #: new requests during the replay
    arrivals: int
    #: requests already waiting at the start
    initial: int
    placed: int
    still_waiting: int
    #: share of ALD / 70 + arrivals (arrived 30 days before the end at least) placed within 30 days
    ald70_within_30: float | None
    #: group → (median, p90) days from request to placement, placed patients only
    waits: dict[str, tuple[float | None, float | None]]
    beyond_threshold: int
    distance: tuple[float | None, float | None]


@dataclass
class Simulation:
    scenario: Scenario
    days: int
    seed: int
    proposed_settings: dict[str, Any]
    threshold_days: int
    metrics: list[PolicyMetrics]
    seconds: float = 0.0
    #: solves of the matching engine (both engine policies)
    solves: int = 0


@dataclass
class _Arrivals:
    n: int
    day: np.ndarray
    when: list[datetime]
    commune: np.ndarray
    flags: np.ndarray  # n × len(REASONS) booleans
    km: np.ndarray
    refuses: np.ndarray  # n × doctors booleans: the GP would refuse this patient
    situations: list[Situation]


def _draw_arrivals(scenario: Scenario, days: int, rng: np.random.Generator) -> _Arrivals:
    per_day = rng.poisson(scenario.arrivals_per_year / 365.0, size=days)
    day = np.repeat(np.arange(days), per_day)
    n = int(day.size)
    minutes = rng.integers(8 * 60, 20 * 60, size=n)
    population = np.array([max(c.population, 1) for c in scenario.communes], dtype=float)
    commune = rng.choice(len(scenario.communes), size=n, p=population / population.sum())
    shares = np.array([float(scenario.shares.get(r, 0.0)) for r in REASONS])
    flags = rng.random((n, len(REASONS))) < shares
    km = rng.choice(np.asarray(scenario.patient_km, dtype=float), size=n)
    start = scenario.start
    when = [start + timedelta(days=int(d), minutes=int(m)) for d, m in zip(day, minutes, strict=True)]
    today = start.date()
    situations = []
    for i in range(n):
        f = dict(zip(REASONS, flags[i].tolist(), strict=True))
        on = when[i].date()
        situations.append(Situation(
            birth_date=date(today.year - (80 if f["age_70"] else 40), 1, 1),
            is_ald=f["ald"], is_css=f["css"], is_pregnant=f["pregnancy"], is_disabled=f["disability"],
            hospital_discharge_date=on if f["hospital_discharge"] else None,
            previous_mt_left_date=on if f["previous_mt_left"] else None,
        ))
    # the waiting list comes first (it is older than every new arrival), oldest first
    old = sorted(scenario.waiting, key=lambda w: w.since)
    m = len(old)
    old_flags = np.array([[r in priority_flags(w.situation, today) for r in REASONS] for w in old],
                         dtype=bool).reshape(m, len(REASONS))
    refuses = rng.random((m + n, len(scenario.doctors))) < scenario.refusal_rate
    return _Arrivals(
        n=m + n, day=np.concatenate([np.full(m, -1), day]).astype(np.int64),
        when=[w.since for w in old] + when,
        commune=np.concatenate([np.array([w.commune for w in old], dtype=np.int64), commune]).astype(np.int64),
        flags=np.concatenate([old_flags, flags]), km=np.concatenate([np.array([w.km for w in old]), km]),
        refuses=refuses, situations=[w.situation for w in old] + situations,
    )


class _World:
    """Distances, radii and the pairs each GP may take, shared by every policy."""

    def __init__(self, scenario: Scenario, arrivals: _Arrivals) -> None:
        self.scenario = scenario
        self.a = arrivals
        docs = scenario.doctors
        c_lat = np.array([c.lat for c in scenario.communes])
        c_lon = np.array([c.lon for c in scenario.communes])
        d_lat = np.array([d.lat for d in docs])
        d_lon = np.array([d.lon for d in docs])
        by_commune = haversine_np(c_lat[:, None], c_lon[:, None], d_lat[None, :], d_lon[None, :])
        self.dist = by_commune[arrivals.commune] if len(docs) else np.zeros((arrivals.n, 0))
        radius = np.minimum(arrivals.km[:, None], np.array([d.max_km for d in docs])[None, :])
        #: within both radii (the engine's own reach test)
        self.reach = self.dist <= radius
        allowed = self.reach.copy()
        for j, doc in enumerate(docs):
            if doc.priority_flags is not None:
                wanted = [REASONS.index(r) for r in (doc.priority_flags or REASONS) if r in REASONS]
                allowed[:, j] &= arrivals.flags[:, wanted].any(axis=1)
        self.allowed = allowed

    def eligible(self, waiting: np.ndarray, refused: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Waiting × doctors: the pairs a policy may propose tonight."""
        return self.allowed[waiting] & ~refused[waiting] & (free > 0)[None, :]


def _fcfs(world: _World, waiting: np.ndarray, refused: np.ndarray, free: np.ndarray,
          **_: Any) -> list[tuple[int, int]]:
    ok = world.eligible(waiting, refused, free)
    left = free.copy()
    pairs = []
    for row, p in enumerate(waiting.tolist()):  # waiting is in arrival order
        options = np.flatnonzero(ok[row] & (left > 0))
        if options.size:
            j = int(options[np.argmin(world.dist[p, options])])
            pairs.append((p, j))
            left[j] -= 1
            if not left.any():
                break
    return pairs


def _nearest(world: _World, waiting: np.ndarray, refused: np.ndarray, free: np.ndarray,
             **_: Any) -> list[tuple[int, int]]:
    ok = world.eligible(waiting, refused, free)
    taken = np.zeros(waiting.size, dtype=bool)
    pairs: list[tuple[int, int]] = []
    for j in np.flatnonzero(free > 0).tolist():
        rows = np.flatnonzero(ok[:, j] & ~taken)
        order = rows[np.argsort(world.dist[waiting[rows], j], kind="stable")][: int(free[j])]
        taken[order] = True
        pairs.extend((int(waiting[r]), j) for r in order.tolist())
    return pairs


def _engine(world: _World, waiting: np.ndarray, refused: np.ndarray, free: np.ndarray, *,
            now: datetime, settings: Mapping[str, Any], stats: dict[str, int]) -> list[tuple[int, int]]:
    ok = world.eligible(waiting, refused, free)
    rows = np.flatnonzero(ok.any(axis=1))
    if rows.size == 0:
        return []
    docs = world.scenario.doctors
    km_cost = float(settings.get("matching_km_cost", 1.0))
    a = world.a
    demands = []
    for r in rows.tolist():
        p = int(waiting[r])
        lat, lon = world.scenario.communes[int(a.commune[p])].lat, world.scenario.communes[int(a.commune[p])].lon
        weight = engine_weight(a.situations[p], a.when[p], now=now, settings=settings, km_cost=km_cost)
        demands.append(Demand(p, lat, lon, weight=weight, max_km=float(a.km[p])))
    open_docs = np.flatnonzero(free > 0).tolist()
    offers = [Offer(j, docs[j].lat, docs[j].lon, capacity=int(free[j]), max_km=docs[j].max_km) for j in open_docs]
    # within reach but not allowed tonight: refused before, or a priority-only GP
    people = waiting[rows]
    barred = world.reach[people][:, open_docs] & ~ok[rows][:, open_docs]
    forbidden = [(int(people[r]), open_docs[c]) for r, c in zip(*np.nonzero(barred), strict=True)]
    stats["solves"] = stats.get("solves", 0) + 1
    result = solve(Problem(demands, offers, km_cost=km_cost, forbidden=forbidden))
    return sorted(result.assignments.items())


_RULES = {"fcfs": _fcfs, "nearest": _nearest, "current": _engine, "proposed": _engine}


def _replay(world: _World, policy: str, days: int, settings: Mapping[str, Any],
            stats: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Placement day (−1: still waiting) and GP of every arrival under one policy."""
    a, docs = world.a, world.scenario.doctors
    placed_day = np.full(a.n, -1)
    placed_gp = np.full(a.n, -1)
    refused = np.zeros((a.n, len(docs)), dtype=bool)
    free = np.zeros(len(docs), dtype=np.int64)
    owed = np.zeros(len(docs))
    monthly = np.array([d.monthly_places for d in docs])
    waiting: list[int] = []
    next_arrival = 0
    month = -1
    rule = _RULES[policy]
    for day in range(days):
        now = world.scenario.start + timedelta(days=day) + RUN_OFFSET
        while next_arrival < a.n and a.when[next_arrival] < now:
            waiting.append(next_arrival)
            next_arrival += 1
        if int(day // MONTH_DAYS) != month:
            month = int(day // MONTH_DAYS)
            owed += monthly
            released = np.floor(owed)
            owed -= released
            free += released.astype(np.int64)
        if not waiting or not free.any():
            continue
        pairs = rule(world, np.array(waiting), refused, free, now=now, settings=settings, stats=stats)
        done = set()
        for p, j in pairs:
            if a.refuses[p, j]:
                refused[p, j] = True
                continue
            free[j] -= 1
            placed_day[p], placed_gp[p] = day, j
            done.add(p)
        if done:
            waiting = [p for p in waiting if p not in done]
    return placed_day, placed_gp


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    if values.size == 0:
        return None, None
    return float(np.median(values)), float(np.percentile(values, 90))


def _metrics(world: _World, policy: str, days: int, threshold: int,
             placed_day: np.ndarray, placed_gp: np.ndarray) -> PolicyMetrics:
    a = world.a
    start = world.scenario.start
    waited = np.array([(start + timedelta(days=int(d)) + RUN_OFFSET - w).total_seconds() / 86400
                       for d, w in zip(placed_day, a.when, strict=True)]) if a.n else np.zeros(0)
    placed = placed_day >= 0
    reason = a.flags.any(axis=1)
    ald70 = a.flags[:, [REASONS.index(r) for r in ALD_OR_70]].any(axis=1)
    judged = ald70 & (a.day >= 0) & (a.day <= days - 30)
    within = judged & placed & (waited <= 30)
    end = start + timedelta(days=days)
    waiting_for = np.array([(end - w).total_seconds() / 86400 for w in a.when]) if a.n else np.zeros(0)
    rows = np.flatnonzero(placed)
    distances = world.dist[rows, placed_gp[rows]] if rows.size else np.zeros(0)
    return PolicyMetrics(
        policy=policy, label=POLICY_LABELS[policy], arrivals=int((a.day >= 0).sum()),
        initial=int((a.day < 0).sum()), placed=int(placed.sum()),
        still_waiting=int((~placed).sum()),
        ald70_within_30=float(within.sum() / judged.sum()) if judged.any() else None,
        waits={"all": _quantiles(waited[placed]), "priority": _quantiles(waited[placed & reason]),
               "other": _quantiles(waited[placed & ~reason])},
        beyond_threshold=int((~placed & (waiting_for > threshold)).sum()),
        distance=_quantiles(distances),
    )


def merged_settings(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The current settings with the proposed changes (weights merged key by key)."""
    result = dict(current)
    weights = dict(current.get("priority_weights") or {})
    weights.update(changes.get("priority_weights") or {})
    result.update({k: v for k, v in changes.items() if k != "priority_weights"})
    result["priority_weights"] = weights
    return result


def _with_default_km(arrivals: _Arrivals, scenario: Scenario, settings: Mapping[str, Any]) -> _Arrivals:
    """New arrivals who kept the default distance take the proposed default instead."""
    proposed = float(settings.get("default_patient_km", scenario.default_km))
    if proposed == scenario.default_km:
        return arrivals
    kept_default = (arrivals.day >= 0) & (arrivals.km == scenario.default_km)
    return replace(arrivals, km=np.where(kept_default, proposed, arrivals.km))


def simulate(scenario: Scenario, *, days: int = 365, seed: int = 1,
             proposed: Mapping[str, Any] | None = None,
             policies: Sequence[str] = POLICIES, threshold_days: int | None = None) -> Simulation:
    """Replay `days` days of the scenario under each policy, on the same arrivals.

    `proposed` holds the changed settings (``priority_weights`` merged key by key, and
    ``waiting_guarantee_days``, ``matching_km_cost``, ``default_patient_km``: new patients
    who kept the current default distance get the proposed one). Deterministic for a seed.
    "Waiting beyond" counts against `threshold_days`, by default the proposed guarantee
    (else the current one, else 180 days).
    """
    started = time.perf_counter()
    proposed_settings = merged_settings(scenario.settings, proposed or {})
    threshold = threshold_days or (guarantee_days(proposed_settings) or guarantee_days(scenario.settings)
                                   or FALLBACK_THRESHOLD_DAYS)
    rng = np.random.default_rng(seed)
    arrivals = _draw_arrivals(scenario, days, rng)
    world = _World(scenario, arrivals)
    proposed_world = _World(scenario, _with_default_km(arrivals, scenario, proposed_settings))
    stats: dict[str, int] = {}
    metrics = []
    for policy in policies:
        settings = proposed_settings if policy == "proposed" else scenario.settings
        here = proposed_world if policy == "proposed" else world
        placed_day, placed_gp = _replay(here, policy, days, settings, stats)
        metrics.append(_metrics(here, policy, days, threshold, placed_day, placed_gp))
    return Simulation(scenario=scenario, days=days, seed=seed, proposed_settings=proposed_settings,
                      threshold_days=threshold, metrics=metrics,
                      seconds=time.perf_counter() - started, solves=stats.get("solves", 0))


# ----------------------------------------------------------------------------------------
# Presentation shared by the command, the page and the CSV

def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} j"


def _km(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} km".replace(".", ",")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def assumptions(sim: Simulation) -> list[str]:
    """What the replay assumes, in plain French (the page and the command show it)."""
    sc = sim.scenario
    places = sum(d.monthly_places for d in sc.doctors) * 12
    if sc.history_requests:
        origin = (f"Arrivées au rythme et avec le profil des {sc.history_requests} demandes de médecin "
                  "traitant des 12 derniers mois du territoire")
    else:
        origin = ("Le territoire a moins de 12 mois d'historique exploitable : arrivées et profils tirés "
                  "d'ordres de grandeur nationaux (ALD 20 %, 70 ans et plus 15 %, CSS 11 %…), "
                  f"à raison de {NATIONAL_ARRIVALS_PER_INHABITANT * 100:.0f} demandes par an pour 100 habitants")
    refusal = (f"{sc.refusal_rate * 100:.0f} % des propositions refusées, comme sur les "
               f"{sc.answered_proposals} réponses des 12 derniers mois" if sc.answered_proposals else
               f"{sc.refusal_rate * 100:.0f} % des propositions refusées (taux par défaut : "
               "pas encore assez de réponses de médecins)")
    ratio = f" ; demande ≈ {sc.arrivals_per_year / places:.2f} fois les places".replace(".", ",") if places else ""
    return [
        f"{origin} : environ {sc.arrivals_per_year:.0f} par an{ratio}.",
        f"{len(sc.doctors)} médecins avec une déclaration ouverte, soit environ {places:.0f} places "
        "par an, libérées mois par mois ; une place non donnée reste disponible.",
        f"{refusal} ; un médecin qui a refusé un patient ne lui est plus jamais proposé.",
        "Chaque patient est placé au centre de sa commune ; le médecin répond le jour même ; "
        f"la simulation part de la liste d'attente actuelle ({len(sc.waiting)} demandes).",
        "Les délais d'attente comptent les patients placés, depuis leur demande ; « en attente depuis plus de "
        f"{sim.threshold_days} jours » compte ceux qui attendent encore à la fin.",
    ]


def table_rows(sim: Simulation) -> list[tuple[str, list[str]]]:
    """(French label, one value per policy) for each figure, in display order."""
    m = sim.metrics

    def pct_placed(x: PolicyMetrics) -> str:
        total = x.arrivals + x.initial
        return f"{x.placed} ({_share(x.placed / total if total else None)})"

    return [
        ("Déjà en attente au départ", [str(x.initial) for x in m]),
        ("Demandes arrivées", [str(x.arrivals) for x in m]),
        ("Patients placés", [pct_placed(x) for x in m]),
        ("ALD ou 70 ans et plus placés en 30 jours ou moins", [_share(x.ald70_within_30) for x in m]),
        ("Attente médiane, tous", [_days(x.waits["all"][0]) for x in m]),
        ("Attente p90, tous", [_days(x.waits["all"][1]) for x in m]),
        ("Attente médiane, patients prioritaires", [_days(x.waits["priority"][0]) for x in m]),
        ("Attente p90, patients prioritaires", [_days(x.waits["priority"][1]) for x in m]),
        ("Attente médiane, sans raison de priorité", [_days(x.waits["other"][0]) for x in m]),
        ("Attente p90, sans raison de priorité", [_days(x.waits["other"][1]) for x in m]),
        (f"Toujours en attente depuis plus de {sim.threshold_days} jours à la fin",
         [str(x.beyond_threshold) for x in m]),
        ("Toujours en attente à la fin", [str(x.still_waiting) for x in m]),
        ("Distance médiane", [_km(x.distance[0]) for x in m]),
        ("Distance p90", [_km(x.distance[1]) for x in m]),
    ]


def text_table(sim: Simulation) -> str:
    """The comparison as a fixed-width text table (the command prints it)."""
    header = ["", *[x.label for x in sim.metrics]]
    rows = [header, *[[label, *values] for label, values in table_rows(sim)]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


CSV_HEADERS = ["politique", "deja_en_attente", "demandes", "places", "ald70_places_30j", "attente_mediane_tous",
               "attente_p90_tous", "attente_mediane_prioritaires", "attente_p90_prioritaires",
               "attente_mediane_sans_raison", "attente_p90_sans_raison", "au_dela_du_delai_vise",
               "toujours_en_attente", "distance_mediane_km", "distance_p90_km"]


def csv_rows(sim: Simulation) -> list[list[str]]:
    def num(value: float | None, digits: int = 1) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    return [[x.label, str(x.initial), str(x.arrivals), str(x.placed), num(x.ald70_within_30, 3),
             num(x.waits["all"][0]), num(x.waits["all"][1]), num(x.waits["priority"][0]),
             num(x.waits["priority"][1]), num(x.waits["other"][0]), num(x.waits["other"][1]),
             str(x.beyond_threshold), str(x.still_waiting), num(x.distance[0]), num(x.distance[1])]
            for x in sim.metrics]


def csv_text(sim: Simulation) -> str:
    """The comparison for a spreadsheet in French: UTF-8 with BOM, semicolons."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    writer.writerows(csv_rows(sim))
    return "\ufeff" + buffer.getvalue()


def parse_changes(text: str) -> dict[str, Any]:
    """``ald=250,per_day_waited=2,waiting_guarantee_days=120`` → proposed settings; raise ValueError."""
    changes: dict[str, Any] = {"priority_weights": {}}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"« {part} » : écrivez clé=valeur.")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"« {part} » : la valeur doit être un nombre.") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"« {part} » : la valeur doit être un nombre positif.")
        if key in DEFAULT_WEIGHTS:
            changes["priority_weights"][key] = number
        elif key in ("waiting_guarantee_days", "default_patient_km"):
            changes[key] = int(number)
        elif key == "matching_km_cost":
            changes[key] = number
        else:
            known = ", ".join([*DEFAULT_WEIGHTS, "waiting_guarantee_days", "default_patient_km", "matching_km_cost"])
            raise ValueError(f"« {key} » n'est pas un réglage connu ({known}).")
    return changes
