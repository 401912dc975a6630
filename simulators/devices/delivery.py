"""Delivery faults: lost, repeated and reordered items, on any stream with ``sensor``/``t_ms``.

On ``Sample``s they say what the device did (skipped a report, reported twice); on ``Message``s
what the radio or broker did to a publish, frame counter and all (a LoRaWAN duplicate keeps its
``fCnt``). ``inject`` chains faults over a sample stream, ``deliver`` over a message stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from simulators.devices.faults import Action, Fault, FaultRecord, Timed
from simulators.devices.personality import Message, Sample

T = TypeVar("T", bound=Timed)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryFault(Fault):
    def apply(self, items: Iterable[T], log: list[FaultRecord]) -> Iterator[T]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Dropout(DeliveryFault):
    """Each covered item is lost with ``probability`` (1: an outage for the whole window)."""

    what: ClassVar[str] = "sensor_offline"

    probability: float = 1.0

    def apply(self, items: Iterable[T], log: list[FaultRecord]) -> Iterator[T]:
        rng = random.Random(self.seed)
        for item in items:
            if self.covers(item) and rng.random() < self.probability:
                log.append(self.record(Action.DROPPED, item))
                continue
            yield item


@dataclass(frozen=True, slots=True)
class Duplicate(DeliveryFault):
    """Each covered item arrives ``copies`` more times with ``probability`` (QoS 1 redelivery)."""

    what: ClassVar[str] = "duplicate_delivery"

    probability: float = 1.0
    copies: int = 1

    def apply(self, items: Iterable[T], log: list[FaultRecord]) -> Iterator[T]:
        rng = random.Random(self.seed)
        for item in items:
            yield item
            if self.covers(item) and rng.random() < self.probability:
                log.append(self.record(Action.DUPLICATED, item, value=self.copies))
                for _ in range(self.copies):
                    yield item


@dataclass(frozen=True, slots=True)
class Reorder(DeliveryFault):
    """Covered items in blocks of ``window`` are shuffled (never left in order) with
    ``probability``; no item moves more than ``window - 1`` places among its sensor's items.
    Items of other sensors pass meanwhile, as on a shared broker."""

    what: ClassVar[str] = "reordered_delivery"

    window: int = 2
    probability: float = 1.0

    def __post_init__(self) -> None:
        Fault.__post_init__(self)
        if self.window < 2:
            raise ValueError("Reorder: a window of at least 2 items is needed to swap anything")

    def apply(self, items: Iterable[T], log: list[FaultRecord]) -> Iterator[T]:
        rng = random.Random(self.seed)
        block: list[T] = []
        for item in items:
            if not self.targets(item):
                yield item
                continue
            if block and (len(block) == self.window or not self.active(item.t_ms)):
                yield from self._shuffle(block, rng, log)
                block = []
            if self.active(item.t_ms):
                block.append(item)
            else:
                yield item
        yield from self._shuffle(block, rng, log)

    def _shuffle(self, block: list[T], rng: random.Random, log: list[FaultRecord]) -> list[T]:
        if len(block) < 2 or rng.random() >= self.probability:
            return block
        order = list(range(len(block)))
        rng.shuffle(order)
        if order == sorted(order):
            order.reverse()
        for position, index in enumerate(order):
            if position != index:
                log.append(self.record(Action.REORDERED, block[index], value=position - index))
        return [block[i] for i in order]


def inject(
    samples: Iterable[Sample], faults: Iterable[Fault], log: list[FaultRecord]
) -> Iterator[Sample]:
    """Every fault, in order, over a stream of samples (value and delivery faults alike)."""
    stream = iter(samples)
    for fault in faults:
        stream = fault.apply(stream, log)
    return stream


def deliver(
    messages: Iterable[Message], faults: Iterable[DeliveryFault], log: list[FaultRecord]
) -> Iterator[Message]:
    """Delivery faults, in order, over the messages devices published."""
    stream = iter(messages)
    for fault in faults:
        stream = fault.apply(stream, log)
    return stream
