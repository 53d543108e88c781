"""One distance function: the matching engine's haversine, for every caller."""

from __future__ import annotations

import math
from types import SimpleNamespace

from guichet.matching.geo import EARTH_RADIUS_KM, haversine_km
from guichet.messaging import publication
from guichet.territories import geo


def test_the_engine_s_distance_between_two_known_places():
    # Paris to London: 343.5 km on the mean-radius sphere (a textbook value)
    assert abs(haversine_km(48.8566, 2.3522, 51.5074, -0.1278) - 343.5) < 0.5
    assert haversine_km(45.0, 5.0, 45.0, 5.0) == 0
    assert EARTH_RADIUS_KM == 6371.0088  # IUGG mean radius
    assert math.isclose(haversine_km(0.0, 0.0, 0.0, 180.0), math.pi * EARTH_RADIUS_KM)


def test_the_digest_counts_the_patients_the_engine_would_reach():
    # a GP's « patients waiting near you » must agree with the solver's reach test to the
    # last bit: a second formula gave 168.4586234832375 here, the engine 168.45862348323746
    doctor = SimpleNamespace(lat=44.03338126023112, lon=4.029119949849624)
    commune = (45.511173550504395, 4.499118451306845)
    radius = haversine_km(doctor.lat, doctor.lon, *commune)
    assert publication.nearby_waiting(doctor, radius, {commune: 3}) == 3  # type: ignore[arg-type]


def test_the_geography_module_has_no_distance_of_its_own():
    assert not hasattr(geo, "haversine_km") and not hasattr(geo, "EARTH_RADIUS_KM")
