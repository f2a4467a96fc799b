"""`python -m gateway run` as a child process, as it is deployed, with its peak memory watched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.stats import vm_hwm_mb

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.2
STOP_SECONDS = 3.0


class WorkerProcess:
    """Starts the worker with `env` (and PATH/PYTHONPATH only), samples VmHWM until stopped.

    VmHWM is the kernel's own high-water mark of the resident set, so sampling only has to
    catch the process before it exits; the last sample before SIGTERM is the peak.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), **env}
        self.peak_mb: float | None = None
        self.started_at = 0.0
        self._workdir = tempfile.TemporaryDirectory(prefix="tg1c-bench-")
        self._log_path = Path(self._workdir.name) / "worker.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="vmhwm", daemon=True)

    def __enter__(self) -> WorkerProcess:
        self.started_at = time.time()
        with open(self._log_path, "wb") as log:
            # cwd is an empty folder, so no developer's .env leaks in.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "run"],
                env=self.env,
                cwd=self._workdir.name,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._sampler.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self._workdir.cleanup()

    @property
    def alive(self) -> bool:
        """True while the worker runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a few seconds: the figures are taken by then, and a
        worker blocked in a Redis wait would hold the bench up for nothing."""
        process = self._process
        if process is None:
            return
        self._record()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._stop.set()
        self._sampler.join(timeout=5)
        self._process = None

    def log_text(self) -> str:
        """What the worker logged (WARNING and up)."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _record(self) -> None:
        if self._process is not None:
            peak = vm_hwm_mb(self._process.pid)
            if peak is not None:
                self.peak_mb = max(self.peak_mb or 0.0, peak)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._record()
