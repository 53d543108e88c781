"""`flask --app wsgi match <territory> [--dry-run]`: counts and solver time for administrators."""

from sqlalchemy import func, select

from guichet.models import MatchingRun, Proposal


def _data(factory):
    territory = factory.territory()
    factory.request(patient=factory.patient(territory=territory))
    factory.request(patient=factory.patient(territory=territory, commune="26117", max_km=5))
    factory.declaration(factory.doctor(territory=territory))
    return territory


def test_match_dry_run_prints_counts_and_saves_nothing(runner, db, factory):
    territory = _data(factory)
    result = runner.invoke(args=["match", territory.slug, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Demandes : 2, médecins : 1, places : 5" in result.output
    assert "Propositions : 1 (dont 0 fixées à la main), sans proposition : 1" in result.output
    assert "aucun médecin disponible : 1" in result.output
    assert "Temps de calcul : " in result.output and "rien n'a été enregistré" in result.output
    assert db.scalar(select(func.count()).select_from(MatchingRun)) == 0


def test_match_stores_the_run_and_its_drafts(runner, db, factory):
    territory = _data(factory)
    result = runner.invoke(args=["match", territory.name])
    assert result.exit_code == 0, result.output
    run = db.scalar(select(MatchingRun))
    assert f"Campagne n° {run.id} enregistrée." in result.output
    assert run.parameters["source"] == "cli" and run.started_by_id is None
    assert db.scalar(select(func.count()).select_from(Proposal).where(Proposal.run_id == run.id)) == 1


def test_match_unknown_territory_is_a_clear_error(runner, factory):
    result = runner.invoke(args=["match", "nulle-part"])
    assert result.exit_code == 1 and "Territoire inconnu" in result.output
