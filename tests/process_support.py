"""Small helpers shared by the tests that run real processes and servers on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import time


def free_port(start: int, end: int) -> int:
    """The first port in [start, end] that 127.0.0.1 can bind."""
    for port in range(start, end + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{end}")


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy or `timeout` seconds pass; its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def stop_process_group(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """SIGTERM a process started with start_new_session=True and its children; SIGKILL after `timeout`."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
