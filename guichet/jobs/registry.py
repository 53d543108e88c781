"""The scheduled jobs: ids, French labels, triggers (Europe/Paris) and the scheduler.

Triggers come from the [JOBS] section of config/defaults.toml (see the comment there).
The scheduler is only built and started by `flask --app wsgi jobs run`, in its own
process: never by create_app, or each gunicorn worker would run every job.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from guichet.clock import Clock
from guichet.settings import SettingsError

TIMEZONE = "Europe/Paris"
DEFAULT_MISFIRE_GRACE_MINUTES = 15


@dataclass(frozen=True)
class JobSpec:
    """One job: its id, what coordinators read, where its function lives, its default time."""

    id: str
    label: str
    #: "module:function" under guichet.jobs, imported when the job runs
    target: str
    default_trigger: str
    #: "session": job(db, now=, settings=) in one transaction the runner opens;
    #: "sessionmaker": job(sessions, now=, settings=) opens its own (delivery commits per message)
    mode: str = "session"

    def function(self) -> Callable[..., dict[str, int]]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


JOBS: dict[str, JobSpec] = {
    spec.id: spec
    for spec in (
        JobSpec("nightly_matching", "Attribution automatique de la nuit",
                "guichet.jobs.matching:nightly_matching", "*/15"),
        JobSpec("publication", "Publication des listes d'attente et synthèses",
                "guichet.jobs.publication:publication", "*/15"),
        JobSpec("follow_ups", "Relances et expirations",
                "guichet.jobs.follow_ups:follow_ups", "08:00"),
        JobSpec("capacity_reminders", "Rappel de mise à jour des disponibilités",
                "guichet.jobs.follow_ups:capacity_reminders", "day=1 09:00"),
        JobSpec("snp_housekeeping", "Entretien des créneaux de soins non programmés",
                "guichet.jobs.follow_ups:snp_housekeeping", "*/30"),
        JobSpec("snp_reminders", "Rappel aux patients de leur rendez-vous du lendemain",
                "guichet.jobs.follow_ups:snp_reminders", "18:00"),
        JobSpec("retention", "Anonymisation et purge des données anciennes",
                "guichet.jobs.retention:retention", "03:30"),
        JobSpec("delivery", "Envoi des messages",
                "guichet.jobs.delivery:delivery", "*/2", mode="sessionmaker"),
    )
}

_DAYS = {"mon": "lundi", "tue": "mardi", "wed": "mercredi", "thu": "jeudi", "fri": "vendredi",
         "sat": "samedi", "sun": "dimanche"}
_TIME = r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)"
_PATTERNS = (
    ("daily", re.compile(rf"^{_TIME}$")),
    ("monthly", re.compile(rf"^day=(?P<day>[1-9]|[12]\d|3[01])\s+{_TIME}$")),
    ("weekly", re.compile(rf"^dow=(?P<dow>{'|'.join(_DAYS)})\s+{_TIME}$")),
    ("minutes", re.compile(r"^\*/(?P<every>[1-9]\d{0,2})$")),
)


def _parse(spec: str) -> tuple[str, dict[str, str]]:
    text = spec.strip().lower()
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            return kind, match.groupdict()
    raise SettingsError(
        f"Horaire de tâche invalide : {spec!r}. Formats acceptés : \"02:30\", "
        "\"day=1 09:00\", \"dow=mon 09:00\" ou \"*/30\" (toutes les 30 minutes)."
    )


def make_trigger(spec: str) -> CronTrigger:
    """A CronTrigger in Europe/Paris from a [JOBS] time (raises SettingsError when malformed)."""
    kind, parts = _parse(spec)
    if kind == "minutes":
        return CronTrigger(minute=f"*/{int(parts['every'])}", timezone=TIMEZONE)
    fields: dict[str, Any] = {"hour": int(parts["hour"]), "minute": int(parts["minute"])}
    if kind == "monthly":
        fields["day"] = int(parts["day"])
    elif kind == "weekly":
        fields["day_of_week"] = parts["dow"]
    return CronTrigger(timezone=TIMEZONE, **fields)


def describe_trigger(spec: str) -> str:
    """The trigger in plain French, e.g. "tous les jours à 02 h 30 (Europe/Paris)"."""
    kind, parts = _parse(spec)
    if kind == "minutes":
        return f"toutes les {int(parts['every'])} minutes"
    at = f"{int(parts['hour']):02d} h {int(parts['minute']):02d}"
    if kind == "monthly":
        day = int(parts["day"])
        return f"le {'1er' if day == 1 else day} de chaque mois à {at} (heure de Paris)"
    if kind == "weekly":
        return f"chaque {_DAYS[parts['dow']]} à {at} (heure de Paris)"
    return f"tous les jours à {at} (heure de Paris)"


def period_of(spec: str) -> timedelta:
    """The longest gap between two firings of a [JOBS] time (a month counts 31 days)."""
    kind, parts = _parse(spec)
    if kind == "minutes":
        return timedelta(minutes=int(parts["every"]))
    return {"daily": timedelta(days=1), "weekly": timedelta(days=7), "monthly": timedelta(days=31)}[kind]


def job_trigger_spec(job_id: str, settings: Mapping[str, Any]) -> str:
    configured = settings.get("JOBS") or {}
    return str(configured.get(job_id, JOBS[job_id].default_trigger))


def misfire_grace_seconds(settings: Mapping[str, Any]) -> int:
    minutes = int(settings.get("JOBS_MISFIRE_GRACE_MINUTES", DEFAULT_MISFIRE_GRACE_MINUTES))
    return max(1, minutes) * 60


def build_scheduler(settings: Mapping[str, Any], sessions: sessionmaker[Session],
                    clock: Clock) -> BlockingScheduler:
    """A BlockingScheduler with every job registered, not started.

    Each job coalesces missed runs, never overlaps itself, and may start a few minutes
    late; a second scheduler process is kept out by the runner's advisory lock.
    Raises SettingsError when a [JOBS] time is malformed.
    """
    scheduler = BlockingScheduler(timezone=TIMEZONE)
    grace = misfire_grace_seconds(settings)
    for job_id, spec in JOBS.items():
        scheduler.add_job(
            run_scheduled,
            trigger=make_trigger(job_trigger_spec(job_id, settings)),
            args=[job_id, sessions, clock],
            kwargs={"settings": dict(settings)},
            id=job_id,
            name=spec.label,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
            replace_existing=True,
        )
    return scheduler


def run_scheduled(job_id: str, sessions: sessionmaker[Session], clock: Clock, *,
                  settings: Mapping[str, Any]) -> None:
    """What the scheduler calls: run the job at the app clock's "now" when it fires.

    A database that went away is one log line, not a traceback: the next firing retries.
    """
    from sqlalchemy.exc import OperationalError

    from guichet.jobs.runner import log, run_job

    try:
        run_job(job_id, sessions, clock(), settings=settings)
    except OperationalError:
        log.error("job %s: database unreachable, the next run will try again", job_id)
