"""Phone intake by the coordinators: the words are addressed to the coordinator."""

from __future__ import annotations

import html as html_lib

from tests.factories import login


def test_the_phone_intake_speaks_to_the_coordinator_about_la_personne(client, db, factory):
    territory = factory.territory()
    login(client, factory.user("staff", territory))
    for path in ("/coordination/demandes/nouvelle-mt", "/coordination/demandes/nouvelle-snp"):
        page = html_lib.unescape(client.get(path).get_data(as_text=True))
        form_part = page[page.index("<form"):page.index("consent-title")]
        assert "Qui appelle ?" in page and "Nom et prénom de l'appelant" in page
        for word in ("Vous êtes", "Votre ", "vous contactera", "Où vous rappeler", "pouvez-vous"):
            assert word not in form_part, (path, word)
