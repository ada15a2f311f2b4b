"""The `kartei` command as a user runs it: init, run (SIGTERM stops it cleanly), events."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KARTEI = [sys.executable, "-m", "hub.cli"]


def kartei(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KARTEI, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_init_run_healthz_and_clean_shutdown(tmp_path: Path) -> None:
    data = tmp_path / "firma"
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    port = free_port()
    config.write_text(config.read_text().replace("port = 8080", f"port = {port}"))
    proc = subprocess.Popen(
        [*KARTEI, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                if response.json()["components"].get("web", {}).get("state") == "ok":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "kartei run did not come up"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert response.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert (data / "kartei.db").exists()


def test_events_json_prints_one_object_per_line(tmp_path: Path) -> None:
    assert kartei("init", str(tmp_path)).returncode == 0
    config = str(tmp_path / "kartei.toml")
    script = (
        "import asyncio\n"
        "from hub.store import Database, EventStore, NO_STREAM\n"
        "from hub.events.tasks import TaskOpened\n"
        "async def main():\n"
        f"    s = EventStore(Database('sqlite:///{tmp_path}/kartei.db'))\n"
        "    await s.start()\n"
        "    await s.append('task-1', NO_STREAM,\n"
        "        [TaskOpened(task_id='1', title='Rückruf Müller')])\n"
        "    await s.append('task-2', NO_STREAM, [TaskOpened(task_id='2', title='Brief')])\n"
        "    await s.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    result = kartei("events", "--json", "--config", config)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["data"]["title"] for line in lines] == ["Rückruf Müller", "Brief"]
    assert lines[0]["type"] == "TaskOpened" and lines[0]["position"] == 1
    only = kartei("events", "--json", "--stream", "task-2", "--config", config)
    assert [json.loads(x)["stream"] for x in only.stdout.splitlines()] == ["task-2"]

    # Stopping at --limit says so, and where to go on; reaching the end says nothing.
    cut = kartei("events", "--json", "--limit", "1", "--config", config)
    assert len(cut.stdout.splitlines()) == 1
    assert "Stopped after 1 events; more follow: --after 1" in cut.stderr
    whole = kartei("events", "--limit", "2", "--config", config)
    assert len(whole.stdout.splitlines()) == 2 and whole.stderr == ""  # one line each

    # --follow waits for new events of the chosen streams, and stops at --limit.
    arguments = ["--json", "--follow", "--stream", "task-2", "--limit", "2", "--config", config]
    follow = subprocess.Popen(
        [*KARTEI, "events", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        assert json.loads(follow.stdout.readline())["data"]["title"] == "Brief"
        more = script.replace("'Rückruf Müller'", "'Angebot'").replace("'Brief'", "'Mahnung'")
        subprocess.run([sys.executable, "-c", more.replace("', NO_STREAM", "', None")], check=True)
        out, err = follow.communicate(timeout=30)
    finally:
        follow.kill()
    assert follow.returncode == 0, err
    assert [json.loads(x)["data"]["title"] for x in out.splitlines()] == ["Mahnung"]


def test_bad_config_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text("[web]\nport = 'achtzig'\n")
    result = kartei("run", "--config", str(config))
    assert result.returncode == 2
    assert "web.port" in result.stderr and "Traceback" not in result.stderr


def test_config_defaults_to_environment_then_working_directory(tmp_path: Path) -> None:
    env = {**os.environ, "KARTEI_CONFIG": str(tmp_path / "elsewhere.toml")}
    result = subprocess.run(
        [*KARTEI, "events"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "elsewhere.toml" in result.stderr
    result = kartei("events", cwd=tmp_path)
    assert "kartei.toml" in result.stderr and "kartei init" in result.stderr
