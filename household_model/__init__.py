"""The household model shared by the meter oracle's simulated source, the webapp's meter page and the simulator.

PV from pvlib's clear-sky irradiance at the community's location times a seeded cloudiness process; load from
demandlib's BDEW profiles scaled to each household's annual consumption; households are prosumers (PV) or consumers,
optionally with a battery. Everything is deterministic given the community's seed.
"""

from household_model.demand import PROFILES, load_profile_day, synthetic_household_kw
from household_model.generate import generate_community
from household_model.model import HouseholdModel, noon_of
from household_model.pv import PERFORMANCE_RATIO, clear_sky_ghi_day
from household_model.spec import Battery, Community, Household, Location, community_from_dict, load_community
from household_model.weather import cloud_factor

__all__ = [
    "PERFORMANCE_RATIO",
    "PROFILES",
    "Battery",
    "Community",
    "Household",
    "HouseholdModel",
    "Location",
    "clear_sky_ghi_day",
    "cloud_factor",
    "community_from_dict",
    "generate_community",
    "load_community",
    "load_profile_day",
    "noon_of",
    "synthetic_household_kw",
]
