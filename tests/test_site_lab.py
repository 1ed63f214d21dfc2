"""`make lab` starts JupyterLab, also as root (containers), and passes ARGS on (here: a port)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from book_toc import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_starts_and_takes_arguments():
    port = free_port()
    args = f"--port {port} --ip 127.0.0.1 --no-browser --ServerApp.token=lossref-test"
    # -o: the shared .venv is installed already; never re-run pip from a test
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab",
                             f"ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=lossref-test",
                                            timeout=2) as response:
                    status = json.load(response)
                break
            except OSError:
                time.sleep(0.5)
        if status is None:
            proc.terminate()
            output = proc.communicate(timeout=20)[0]
            raise AssertionError(f"make lab (uid {os.getuid()}) did not serve on port {port}:\n"
                                 f"{output[-3000:]}")
        assert "started" in status, status
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # our own session: make and its jupyter
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
