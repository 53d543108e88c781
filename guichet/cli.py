"""Command-line interface (`flask --app wsgi …`): thin commands that call services."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask import Flask, current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from guichet import demo, migrate
from guichet.accounts import users
from guichet.territories import geo


def app_now() -> datetime:
    """Now, from the application's one clock (tests give the app a frozen one)."""
    return current_app.extensions["guichet"]["clock"]()


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction for the command: committed at the end, rolled back on error."""
    sessionmaker = current_app.extensions["guichet"]["sessionmaker"]
    with sessionmaker.begin() as db:
        yield db


def fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    from guichet.jobs.cli import jobs_group

    app.cli.add_command(jobs_group)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the database to the latest migration and load the communes."""
        url = current_app.config["DATABASE_URL"]
        try:
            migrate.upgrade(url)
        except OperationalError as exc:
            fail(f"Base de données injoignable ({exc.orig}). Vérifiez DATABASE_URL.")
        click.echo("Base de données à jour (dernière migration appliquée).")
        with transaction() as db:
            if geo.communes_loaded(db):
                click.echo(f"Communes déjà chargées : {geo.communes_loaded(db)}.")
                return
            count = geo.load_communes(db)
        click.echo(f"Communes chargées : {count}.")

    @app.cli.command("load-demo")
    def load_demo() -> None:
        """Load the demo territory (CPTS Royans-Vercors) with fictitious GPs and patients."""
        with transaction() as db:
            if not geo.communes_loaded(db):
                fail("Les communes ne sont pas chargées : lancez d'abord `flask --app wsgi init-db`.")
            summary = demo.load_demo(db, now=app_now())
        if summary.created:
            click.echo(
                f"Territoire de démonstration créé : {summary.territory} — "
                f"{summary.doctors} médecins, {summary.patients} demandes en attente, "
                f"{summary.slots} créneaux de soins non programmés."
            )
        else:
            click.echo(f"Le territoire de démonstration {summary.territory} existe déjà : rien d'ajouté.")
        click.echo("Comptes de démonstration :")
        for role, email, password in summary.logins:
            click.echo(f"  {role:15} {email}  /  {password}")

    @app.cli.command("match")
    @click.argument("territory")
    @click.option("--dry-run", is_flag=True, help="calculer et afficher sans rien enregistrer")
    def match(territory: str, dry_run: bool) -> None:
        """Run the médecin traitant matching of a territory (slug, name or id)."""
        from guichet.assignment import explanations, runs

        sessionmaker = current_app.extensions["guichet"]["sessionmaker"]
        with sessionmaker() as db:
            try:
                place = geo.find_territory(db, territory)
                outcome = runs.run_mt(db, place, now=app_now(), dry_run=dry_run, source="cli")
            except geo.UnknownTerritory as exc:
                db.rollback()
                fail(str(exc))
                return
            s, name, seconds = outcome.stats, place.name, outcome.solver_seconds
            run_id = outcome.run.id if outcome.run is not None else None
            if dry_run:
                db.rollback()
            else:
                db.commit()
        click.echo(f"{'Simulation' if dry_run else 'Attribution'} — {name}")
        click.echo(f"Demandes : {s['n_demands']}, médecins : {s['n_offers']}, places : {s['places']}")
        click.echo(f"Propositions : {s['n_assigned']} (dont {s['n_pinned']} fixées à la main), "
                   f"sans proposition : {s['n_unassigned']}")
        for code, count in sorted(s["unassigned_by_reason"].items()):
            click.echo(f"  {explanations.reason_text(code)} : {count}")
        click.echo(f"Temps de calcul : {seconds:.3f} s")
        if dry_run:
            click.echo("Simulation : rien n'a été enregistré.")
        elif run_id is not None:
            click.echo(f"Campagne n° {run_id} enregistrée.")

    @app.cli.command("simulate")
    @click.argument("territory")
    @click.option("--days", type=click.IntRange(30, 730), default=365, show_default=True,
                  help="nombre de jours simulés")
    @click.option("--seed", type=int, default=1, show_default=True,
                  help="graine du tirage (même graine, même résultat)")
    @click.option("--weights", default="", help="règles proposées, ex. ald=250,waiting_guarantee_days=120")
    @click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True),
                  help="écrire aussi le tableau en CSV")
    def simulate(territory: str, days: int, seed: int, weights: str, csv_path: str | None) -> None:
        """Compare allocation rules on a simulated period of a territory (nothing is saved)."""
        from guichet.assignment import scenario, simulator

        try:
            changes = simulator.parse_changes(weights)
        except ValueError as exc:
            fail(f"--weights : {exc}")
            return
        sessionmaker = current_app.extensions["guichet"]["sessionmaker"]
        with sessionmaker() as db:
            try:
                place = geo.find_territory(db, territory)
            except geo.UnknownTerritory as exc:
                fail(str(exc))
                return
            world = scenario.scenario_for(db, place, now=app_now())
            db.rollback()
        sim = simulator.simulate(world, days=days, seed=seed, proposed=changes)
        click.echo(f"Simulation des règles — {world.territory}, {days} jours, graine {seed}")
        for line in simulator.assumptions(sim):
            click.echo(f"  {line}")
        click.echo("")
        click.echo(simulator.text_table(sim))
        click.echo("")
        click.echo(f"Temps de calcul : {sim.seconds:.2f} s ({sim.solves} résolutions du moteur)".replace(".", ","))
        if csv_path:
            with open(csv_path, "w", newline="", encoding="utf-8") as handle:
                handle.write(simulator.csv_text(sim))
            click.echo(f"Tableau écrit dans {csv_path}.")

    @app.cli.command("create-territory")
    @click.argument("name")
    @click.argument("insee_codes", nargs=-1)
    def create_territory(name: str, insee_codes: tuple[str, ...]) -> None:
        """Create a territory from a reference CPTS name, or from a name and INSEE codes."""
        try:
            with transaction() as db:
                if insee_codes:
                    territory = geo.create_territory(db, name, insee_codes, now=app_now())
                else:
                    territory = geo.create_reference_territory(db, name, now=app_now())
                click.echo(f"Territoire « {territory.name} » ({territory.slug}) : "
                           f"{len(territory.communes)} communes.")
        except (geo.UnknownCommune, geo.UnknownTerritory) as exc:
            fail(str(exc))

    @app.cli.command("import-rpps")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--territory", help="slug ou nom d'un territoire (par défaut : tous les territoires)")
    def import_rpps(path: str, territory: str | None) -> None:
        """Load the Annuaire Santé "personne activité" extraction for the territories' communes."""
        from sqlalchemy import select

        from guichet.doctors import directory
        from guichet.models import Territory

        try:
            with transaction() as db:
                chosen = [geo.find_territory(db, territory)] if territory else list(db.scalars(select(Territory)))
                communes = {c.insee for t in chosen for c in t.communes}
                if not communes:
                    fail("Aucun territoire : créez-en un d'abord (create-territory).")
                with open(path, encoding="utf-8", newline="") as lines:
                    report = directory.import_rpps(db, lines, communes, now=app_now())
        except (geo.UnknownTerritory, directory.DirectoryFileError) as exc:
            fail(str(exc))
        except UnicodeDecodeError:
            fail("Le fichier n'est pas en UTF-8 : utilisez l'extraction de l'Annuaire Santé telle quelle.")
        click.echo(f"Annuaire chargé : {report.kept} activités de médecins dans {len(communes)} communes "
                   f"(sur {report.read} lignes lues).")

    @app.cli.command("reset-two-factor")
    @click.argument("email")
    def reset_two_factor(email: str) -> None:
        """Remove an account's second factor (phone and recovery codes lost, no admin to do it); audited."""
        from guichet.accounts import two_factor

        with transaction() as db:
            user = users.find_user_by_email(db, email)
            if user is None:
                fail(f"Aucun compte pour l'adresse « {email} ».")
            assert user is not None
            if not user.has_second_factor:
                fail(f"Le compte {user.email} n'a pas de double authentification activée : rien à réinitialiser.")
            two_factor.reset_by_admin(db, user, by=None, now=app_now())
        click.echo(f"Double authentification de {user.email} réinitialisée, sessions fermées : la prochaine "
                   "connexion se fait avec le mot de passe seul, puis la double authentification est à activer "
                   "à nouveau.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", required=True, help="Prénom et nom")
    @click.option("--role", type=click.Choice(["staff", "admin", "doctor"]), default="staff")
    @click.option("--territory", help="slug ou nom du territoire (staff, admin)")
    @click.option("--rpps", help="numéro RPPS du médecin (doctor)")
    @click.password_option(help="mot de passe (demandé s'il n'est pas donné)")
    def create_user(email: str, full_name: str, role: str, territory: str | None,
                    rpps: str | None, password: str) -> None:
        """Create a staff, admin or GP account."""
        from sqlalchemy import select

        from guichet.models import Doctor

        try:
            with transaction() as db:
                territory_id = doctor_id = None
                if territory:
                    territory_id = geo.find_territory(db, territory).id
                if role == "doctor":
                    doctor = db.scalar(select(Doctor).where(Doctor.rpps == (rpps or "")))
                    if doctor is None:
                        fail(f"Aucun médecin avec le numéro RPPS « {rpps} ».")
                    assert doctor is not None
                    doctor_id = doctor.id
                user = users.create_user(
                    db, email=email, full_name=full_name, role=role, now=app_now(),
                    password=password, territory_id=territory_id, doctor_id=doctor_id,
                )
                click.echo(f"Compte créé : {user.email} ({user.role}).")
        except (users.AccountError, geo.UnknownTerritory) as exc:
            fail(str(exc))
