"""A synthetic city, seeded: districts → streets → communities → gateways → sensors.

``generate_city(seed, ...)`` (``generate``) builds the same city for the same arguments, bit for
bit: names from a small syllable table (花木街道, Huamu), WGS-84 coordinates on nested grids
around a centre (communities ~400 m apart, sensors within ~170 m of theirs), buildings with
floors, and sensors at risk points that fit their kind. The records are in ``model``. The
configs a deployment of it needs are plain data (``configs``): ``gateway_config`` (one
gateway.yaml), ``hub_city`` (the ``city`` section of hub.yaml), and ``write_configs`` writes
them all.
"""

from simulators.city.configs import Brokers, gateway_config, hub_city, write_configs
from simulators.city.generate import COMMUNITY_SPACING_M, MIXES, SHANGHAI, generate_city
from simulators.city.model import (
    SimBuilding,
    SimCity,
    SimCommunity,
    SimDistrict,
    SimGateway,
    SimSensor,
    SimSource,
    SimStreet,
)

__all__ = [
    "COMMUNITY_SPACING_M",
    "MIXES",
    "SHANGHAI",
    "Brokers",
    "SimBuilding",
    "SimCity",
    "SimCommunity",
    "SimDistrict",
    "SimGateway",
    "SimSensor",
    "SimSource",
    "SimStreet",
    "gateway_config",
    "generate_city",
    "hub_city",
    "write_configs",
]
