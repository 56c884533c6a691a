"""`omni demo` as a user runs it: it loads the retailer, serves, and the printed login works."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_commands import omni


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_line(process: subprocess.Popen[str], pattern: str, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} within {timeout}s:\n{''.join(lines)}")


def test_stats_only_prints_ground_truth_statistics(tmp_path: Path) -> None:
    result = omni("demo", "--customers", "300", "--stats-only", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "orders per channel" in result.stdout.lower()
    assert "customers per channel" in result.stdout.lower()
    truth = tmp_path / "data" / "demo" / "seed7-customers300"
    assert (truth / "identifiers.csv").stat().st_size > 0
    assert (truth / "people.csv").read_text().count("\n") == 301
    assert not (tmp_path / "data" / "omni.db").exists()


def test_demo_serves_a_dashboard_one_can_log_in_to(tmp_path: Path) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {"OMNI_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", "OMNI_LOG_JSON": "true"}
    process = subprocess.Popen(
        [sys.executable, "-m", "omni", "demo", "--customers", "300", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    try:
        output = "".join(_wait_for_line(process, r"log in as", timeout=120))
        assert f"Omni is serving at http://127.0.0.1:{port}" in output
        # the funnel over the analytics export agrees with the store's
        over_export = re.search(r"on DuckDB over the export: ([\d,> -]+)\n", output)
        on_store = re.search(r"on the store: ([\d,> -]+)\n", output)
        assert over_export is not None, output
        assert on_store is not None, output
        assert over_export[1].strip() == on_store[1].strip()
        assert int(over_export[1].split(" -> ")[-1].replace(",", "")) > 0
        login = re.search(r"log in as (\S+) with password (\S+)", output)
        assert login is not None
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            form = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            answer = client.post(
                "/login", data={"email": login[1], "password": login[2], "csrf_token": token[1], "next": "/"}
            )
            assert (answer.status_code, answer.headers["location"]) == (303, "/")
            overview = client.get("/", headers={"accept-language": "en"})
            assert overview.status_code == 200
            figures = re.findall(r'class="figure">([\d,]+)<', overview.text)
            assert int(figures[0].replace(",", "")) > 1000
            orders = client.get("/orders", headers={"accept-language": "en"})
            assert orders.text.count("<tr data-order=") > 10
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
