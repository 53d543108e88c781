import pytest

from guichet.models import Commune
from guichet.territories import geo


def test_a_postal_code_can_serve_several_communes(db):
    choices = geo.communes_for_postal_code(db, "26190")
    names = [c.label for c in choices]
    assert "Bouvante" in names and "Échevis" in names
    assert {c.insee for c in choices} >= {"26059", "26117"}


def test_communes_deleguees_are_found_by_their_own_name(db):
    choices = geo.communes_for_postal_code(db, "60390")
    assert any(c.label == "Villotran (Les Hauts-Talican)" and c.insee == "60694" for c in choices)


@pytest.mark.parametrize("code,message", [("2619", "5 chiffres"), ("99999", "aucune commune")])
def test_bad_postal_codes_get_a_french_message(db, code, message):
    with pytest.raises(geo.UnknownCommune, match=message):
        geo.communes_for_postal_code(db, code)


def test_lookup_by_insee_code_keeps_corsican_codes_as_text(db):
    assert geo.get_commune(db, "2A004").name == "Ajaccio"
    with pytest.raises(geo.UnknownCommune, match="99999"):
        geo.get_commune(db, "99999")


def test_communes_without_coordinates_get_an_approximate_position(db):
    for insee in ("60694", "85165", "85212"):
        commune = db.get(Commune, insee)
        assert commune.has_position and commune.is_position_approximate
    assert not db.get(Commune, "26059").is_position_approximate


def test_reference_territory_has_its_18_communes(db, now):
    territory = geo.create_reference_territory(db, "CPTS Royans-Vercors", now=now)
    assert len(territory.communes) == 18
    assert geo.territory_for_commune(db, "26059") == territory
    assert geo.territory_for_commune(db, "75056") is None


def test_territory_from_insee_codes_names_the_unknown_ones(db, now):
    with pytest.raises(geo.UnknownCommune, match="00000, 99999"):
        geo.create_territory(db, "CPTS Fictive", ["26059", "00000", "99999"], now=now)
    territory = geo.create_territory(db, "CPTS Fictive", ["26059", "26117"], now=now)
    assert territory.slug == "cpts-fictive"
    assert [c.insee for c in territory.communes] == ["26059", "26117"]

