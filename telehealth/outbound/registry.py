"""The channels the worker delivers over, by name. Each channel module adds itself on import;
`telehealth.models` imports them all."""

from __future__ import annotations

from telehealth.outbound.channels import OutboundChannel
from telehealth.outbound.models import Channel

CHANNELS: dict[Channel, OutboundChannel] = {}


def register(channel: OutboundChannel) -> OutboundChannel:
    CHANNELS[channel.name] = channel
    return channel
