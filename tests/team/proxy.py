"""A TCP proxy that drops the connection after a number of client bytes: a network cut."""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttingProxy:
    """Forwards 127.0.0.1:port to ``target``; closes both ends once the client sent ``limit``."""

    def __init__(self, target_port: int, limit: int | None = None) -> None:
        self.target_port = target_port
        self.limit = limit
        self.sent = 0
        self.cut = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._ends: list[socket.socket] = []
        self._pumps: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening, cut every open pair, and wait for the threads to end."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self._thread.join(timeout=5)
        for end in list(self._ends):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        for pump in self._pumps:
            pump.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            pair = (client, server)
            self._ends += pair
            for source, sink, upstream in ((client, server, True), (server, client, False)):
                pump = threading.Thread(
                    target=self._pump, args=(source, sink, pair, upstream), daemon=True
                )
                pump.start()
                self._pumps.append(pump)

    def _pump(self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, ...],
              upstream: bool) -> None:  # fmt: skip
        with contextlib.suppress(OSError):  # either end closing ends the pair
            while chunk := source.recv(65536):
                allowed = self._allow(len(chunk)) if upstream else len(chunk)
                sink.sendall(chunk[:allowed])
                if allowed < len(chunk):
                    break
        for end in pair:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def _allow(self, size: int) -> int:
        """How many of ``size`` bytes may pass before the cut."""
        with self._lock:
            allowed = size if self.limit is None else max(0, min(size, self.limit - self.sent))
            self.cut = self.cut or allowed < size
            self.sent += allowed
            return allowed
