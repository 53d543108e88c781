"""Each territory's daily jobs run once a day, at or after its own time (Europe/Paris)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from guichet.jobs.matching import nightly_matching
from guichet.messaging import publication
from guichet.models import MatchingRun, PublishedWaitingList
from guichet.territories import settings as territory_settings


def at_paris(hour: int, minute: int = 0) -> datetime:
    # 24 November 2026: Paris is UTC+1
    return datetime(2026, 11, 24, hour - 1, minute, tzinfo=UTC)


def count(db, model, territory):
    return db.scalar(select(func.count()).select_from(model).where(model.territory_id == territory.id))


def test_nightly_matching_waits_for_the_territory_time_then_runs_once(db, factory, now):
    territory = factory.territory()
    territory.is_auto_matching = True
    territory_settings.update_settings(db, territory, {"nightly_matching_time": "04:15"}, now=now)
    assert nightly_matching(db, now=at_paris(4, 0), settings={})["not_yet"] == 1
    assert count(db, MatchingRun, territory) == 0
    assert nightly_matching(db, now=at_paris(4, 15), settings={})["territories"] == 1
    assert nightly_matching(db, now=at_paris(4, 30), settings={})["skipped"] == 1
    assert count(db, MatchingRun, territory) == 1


def test_publication_uses_the_default_time_and_publishes_once_a_day(db, factory):
    territory = factory.territory()
    assert territory_settings.setting(territory, "publication_time") == "06:30"
    publication.publish_all(db, now=at_paris(6, 15), settings={})
    assert count(db, PublishedWaitingList, territory) == 0
    publication.publish_all(db, now=at_paris(6, 45), settings={})
    publication.publish_all(db, now=at_paris(7, 0), settings={})
    assert count(db, PublishedWaitingList, territory) == 1


@pytest.mark.parametrize("raw,stored", [("2:30", "02:30"), ("23h05", "23:05"), ("07:00", "07:00")])
def test_admin_times_are_normalised(raw, stored):
    assert territory_settings.validate_settings({"publication_time": raw})["publication_time"] == stored


@pytest.mark.parametrize("raw", ["25:00", "7", "midi", "12:60"])
def test_a_wrong_time_gets_a_french_message(raw):
    with pytest.raises(territory_settings.InvalidSettings) as exc:
        territory_settings.validate_settings({"nightly_matching_time": raw})
    assert "format HH:MM" in exc.value.errors["nightly_matching_time"]
