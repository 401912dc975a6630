"""Stage 1 of the edge pipeline: device payloads to metric values in canonical units.

One module per ecosystem registers its decoder in ``DECODERS`` (``@decoder``); importing this
package imports them all, so ``decode`` knows every ecosystem.
"""

from edge.decoders import chirpstack, generic_json, tasmota, zigbee2mqtt
from edge.decoders.base import (
    DECODERS,
    MAX_PAYLOAD_BYTES,
    Decoded,
    DecodeFailure,
    Decoder,
    decode,
    decoder,
)

__all__ = [
    "DECODERS",
    "MAX_PAYLOAD_BYTES",
    "DecodeFailure",
    "Decoded",
    "Decoder",
    "chirpstack",
    "decode",
    "decoder",
    "generic_json",
    "tasmota",
    "zigbee2mqtt",
]
