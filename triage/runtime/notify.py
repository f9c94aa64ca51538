"""The sd_notify protocol: READY, WATCHDOG, STATUS, RELOADING and STOPPING datagrams to the
socket systemd names in $NOTIFY_SOCKET. Does nothing when not run by systemd."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping


class Notifier:
    def __init__(self, environ: Mapping[str, str]) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # "@name" is a socket in the abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        watchdog_pid = environ.get("WATCHDOG_PID", "")
        for_us = not watchdog_pid or watchdog_pid == str(os.getpid())
        self.watchdog_interval = int(usec) / 1e6 if usec.isdigit() and for_us else None

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def send(self, **fields: str) -> None:
        if not self._address:
            return
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode("utf-8", "replace"), self._address)
        except OSError:
            pass  # systemd gone (shutting down): nothing useful to do about it

    def ready(self, status: str) -> None:
        self.send(ready="1", status=status)

    def reloading(self) -> None:
        self.send(reloading="1", monotonic_usec=str(time.monotonic_ns() // 1000))

    def stopping(self) -> None:
        self.send(stopping="1", status="stopping")

    def watchdog(self) -> None:
        self.send(watchdog="1")

    def status(self, text: str) -> None:
        self.send(status=text)
