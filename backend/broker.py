"""The embedded default's broker: kombu's filesystem transport, waking Celery's loop often.

Celery's worker loop for a transport without an event loop (this one) checks its stop flag between
two `drain_events(timeout=2.0)` calls, and once more after it is set, so Ctrl-C on `make run` took
up to 4 s to reach an idle worker. Capping each wait at the polling interval (0.2 s, see
CELERY_BROKER_TRANSPORT_OPTIONS) lets the worker see the stop within half a second. Waiting for
messages costs the same: the transport already lists its folder every polling interval.
"""

from kombu.transport import filesystem


class FilesystemTransport(filesystem.Transport):
    def drain_events(self, connection, timeout=None):
        if timeout is not None and self.polling_interval:
            timeout = min(timeout, self.polling_interval)
        return super().drain_events(connection, timeout=timeout)
