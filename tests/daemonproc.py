"""``labourwatch run`` in a subprocess, for tests: start it, wait until healthy, read its endpoint, stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from prometheus_client.parser import text_string_to_metric_families

from tests.receivers import free_port


def run_tree(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(args, capture_output=True, text=True, timeout=timeout)``, the process in a session of its
    own: when it times out (or the test is interrupted), everything it started goes with it. A bench killed
    alone leaves its ``labourwatch run`` daemon (and that one's workers) running with no one to stop them."""
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


class DaemonProcess:
    """A running daemon with a config file; ``port`` serves /healthz and /metrics."""

    def __init__(self, config: Path, port: int | None = None, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        """``args``: options of ``run`` (``--cluster``, ``--listen``…)."""
        self.config = config
        self.args = args
        self.env = env or {}
        self.port = port or free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.log = config.parent / "daemon.log"
        self.returncode: int | None = None
        self._handle: Any = None

    def start(self, wait: float = 60.0) -> Self:
        """Start and wait until /healthz answers (any status); AssertionError if it exits first."""
        self._handle = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "labourwatch", "--config", str(self.config), "run", *self.args],
            stdout=self._handle, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "200", **self.env})
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close()
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.output()}")
            if self.health() is not None:
                return self
            time.sleep(0.2)
        # Killed, not left running: the caller never got it to stop (a bench's node on a gone database, say).
        self.proc.kill()
        self.returncode = self.proc.wait()
        self._close()
        raise AssertionError(f"daemon did not answer /healthz in {wait}s (killed):\n{self.output()}")

    def output(self) -> str:
        """Everything the daemon logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def get(self, path: str) -> tuple[int, bytes]:
        """GET a path of the health endpoint: (status, body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def health(self) -> tuple[int, dict[str, Any]] | None:
        """(status, JSON) of /healthz, or None while nothing listens."""
        try:
            status, body = self.get("/healthz")
        except OSError:
            return None
        return status, json.loads(body)

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics as ``name{label="value",...}`` → value (labels sorted)."""
        status, body = self.get("/metrics")
        assert status == 200, body
        samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return samples

    def signal(self, signum: int) -> None:
        """Send a signal to the daemon."""
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon did not stop within {timeout}s of SIGTERM:\n{self.output()}") from None
        finally:
            self._close()
        return self.returncode

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def wait_until(self, predicate: Any, timeout: float, what: str, every: float = 0.25) -> Any:
        """Poll ``predicate()`` until it returns something truthy; AssertionError (with the log) on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) waiting for {what}:\n{self.output()}")
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{self.output()[-5000:]}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        self._close()
