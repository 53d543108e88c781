"""The `flask --app wsgi jobs …` commands: list, run-once, run (the scheduler process)."""

from __future__ import annotations

import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from guichet.cli import app_now
from guichet.jobs import registry
from guichet.jobs.runner import UnknownJob, last_runs, run_job
from guichet.settings import SettingsError
from guichet.timeutil import to_paris

jobs_group = AppGroup("jobs", help="Tâches planifiées : liste, exécution unique, planificateur.")

DATABASE_LOST = ("La base de données est injoignable (connexion perdue ou serveur arrêté) : "
                 "la tâche n'a pas pu aller au bout ; elle reprendra à sa prochaine exécution.")
OUTCOME_LABELS = {"running": "en cours", "success": "réussie", "failure": "échec",
                  "skipped": "ignorée (déjà en cours ailleurs)"}


def _fmt(value) -> str:
    return to_paris(value).strftime("%d/%m/%Y %H:%M") if value else "—"


@jobs_group.command("list")
def list_jobs() -> None:
    """Show each job, its trigger (Europe/Paris), its next and its last run."""
    settings = current_app.config
    sessions = current_app.extensions["guichet"]["sessionmaker"]
    now = app_now()
    with sessions() as db:
        latest = last_runs(db)
    for job_id, spec in registry.JOBS.items():
        raw = registry.job_trigger_spec(job_id, settings)
        try:
            trigger = registry.make_trigger(raw)
        except SettingsError as exc:
            click.secho(f"{job_id}: {exc}", fg="red", err=True)
            sys.exit(1)
        next_fire = trigger.get_next_fire_time(None, now)
        run = latest.get(job_id)
        last = "jamais exécutée"
        if run is not None:
            last = f"{_fmt(run.started_dt)} — {OUTCOME_LABELS.get(run.outcome, run.outcome)}"
        click.echo(f"{job_id}  {spec.label}")
        click.echo(f"    horaire : {raw!r}, {registry.describe_trigger(raw)} [{registry.TIMEZONE}]")
        click.echo(f"    prochaine exécution : {_fmt(next_fire)}")
        click.echo(f"    dernière exécution : {last}")


@jobs_group.command("run-once")
@click.argument("job_id")
def run_once(job_id: str) -> None:
    """Run one job now (same lock and JobRun record as the scheduler)."""
    sessions = current_app.extensions["guichet"]["sessionmaker"]
    try:
        result = run_job(job_id, sessions, app_now(), settings=dict(current_app.config))
    except UnknownJob as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(2)
    except OperationalError:
        click.secho(DATABASE_LOST, fg="red", err=True)
        sys.exit(1)
    counts = ", ".join(f"{k} = {v}" for k, v in result.summary.items()) or "rien à faire"
    click.echo(f"{job_id} : {OUTCOME_LABELS.get(result.outcome, result.outcome)} ({counts}).")
    if result.outcome == "failure":
        click.secho(f"Erreur : {result.error}", fg="red", err=True)
        sys.exit(1)


@jobs_group.command("run")
def run_scheduler() -> None:
    """Start the scheduler in this process (blocks; stop with Ctrl-C or SIGTERM)."""
    sessions = current_app.extensions["guichet"]["sessionmaker"]
    try:
        scheduler = registry.build_scheduler(dict(current_app.config), sessions,
                                             current_app.extensions["guichet"]["clock"])
    except SettingsError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    def stop(signum: int, _frame: object) -> None:
        # systemd and containers stop with SIGTERM: no new run starts, a run in progress
        # finishes its own transaction before the process exits
        click.echo("Arrêt demandé : les tâches en cours se terminent, aucune autre ne démarre.")
        if scheduler.running:
            scheduler.shutdown(wait=False)
        else:  # stopped before it even started
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        click.echo(f"Planificateur démarré ({len(registry.JOBS)} tâches, fuseau {registry.TIMEZONE}). "
                   "Arrêt : Ctrl-C ou SIGTERM.")
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    click.echo("Planificateur arrêté.")
