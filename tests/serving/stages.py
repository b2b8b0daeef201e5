"""Scorer stages that make scoring slow on purpose, for overload and shutdown tests.

They implement slipway's own ``Stage`` protocol (no third-party code is patched)."""

from __future__ import annotations

import threading
import time

from slipway.scoring.batch import Batch


class SlowStage:
    """Sleeps ``seconds`` per batch once ``armed``."""

    name = "slow"
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False

    def apply(self, batch: Batch) -> None:
        if self.armed:
            time.sleep(self.seconds)


class GateStage:
    """Once ``armed``, holds each batch until ``release`` is set; ``entered`` says one is held."""

    name = "gate"
    phase = "input"
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def apply(self, batch: Batch) -> None:
        if self.armed:
            self.entered.set()
            self.release.wait(timeout=60)
