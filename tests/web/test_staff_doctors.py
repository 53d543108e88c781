"""The coordinators' list of GPs: accent-insensitive search and availability filter."""

from __future__ import annotations

from tests.factories import login


def test_the_gp_list_searches_names_and_communes_without_accents_and_filters_places(client, db, factory):
    territory = factory.territory()
    helene = factory.doctor(territory=territory, first_name="Hélène", last_name="Bérard", commune="26223")
    factory.declaration(helene, 3)
    paul = factory.doctor(territory=territory, first_name="Paul", last_name="Durand", commune="26059")
    login(client, factory.user("staff", territory))

    def names(query: str) -> set[str]:
        html = client.get("/coordination/medecins?" + query).get_data(as_text=True)
        return {d.last_name for d in (helene, paul) if d.last_name.upper() in html}

    assert names("q=helene") == {"Bérard"} and names("q=BERARD") == {"Bérard"}
    assert names("q=oriol") == {"Bérard"}  # the practice's commune, Oriol-en-Royans
    assert names("disponibilite=places") == {"Bérard"} and names("disponibilite=aucune") == {"Durand"}


def test_the_gp_list_finds_a_saint_commune_written_st(client, factory):
    territory = factory.territory(insee=("26307", "26223"))
    jean = factory.doctor(territory=territory, last_name="Morel", commune="26307")
    factory.doctor(territory=territory, last_name="Blanc", commune="26223")
    login(client, factory.user("staff", territory))
    for query in ("st-jean", "saint jean", "St Jean en Royans"):
        html = client.get("/coordination/medecins", query_string={"q": query}).get_data(as_text=True)
        assert jean.last_name.upper() in html and "BLANC" not in html, query
