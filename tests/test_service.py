"""The service runner against real subprocesses; every test proves nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from conftest import free_port
from perfgate.config import substitute
from perfgate.errors import ServiceError
from perfgate.target import Service, ServiceSpec

PY = sys.executable

# A tiny HTTP server: `server.py PORT [--ignore-term] [--die-on FILE]`.
SERVER = textwrap.dedent(
    """
    import http.server, os, signal, sys, threading, time
    port = int(sys.argv[1])
    if "--ignore-term" in sys.argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    print(f"listening on {port}", flush=True)
    if "--die-on" in sys.argv:
        flag = sys.argv[sys.argv.index("--die-on") + 1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        for _ in range(600):
            if os.path.exists(flag):
                print("fatal: out of widgets", flush=True)
                os._exit(7)
            time.sleep(0.05)
    else:
        srv.serve_forever()
    """
)


@pytest.fixture
def server_py(tmp_path: Path) -> Path:
    path = tmp_path / "server.py"
    path.write_text(SERVER)
    return path


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Services made in a test; stopped at teardown and checked to have left nothing."""
    made: list[Service] = []
    yield made
    for svc in made:
        svc.stop()


def make(services: list[Service], tmp_path: Path, **kw: object) -> Service:
    kw.setdefault("workdir", tmp_path / f"w{len(services)}")
    kw.setdefault("ready_timeout", 20.0)
    svc = Service(ServiceSpec(**kw))  # type: ignore[arg-type]
    services.append(svc)
    return svc


def assert_gone(procs: list[psutil.Process]) -> None:
    for p in procs:
        try:
            gone = not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            gone = True
        assert gone, f"pid {p.pid} left behind"


def snapshot(svc: Service) -> list[psutil.Process]:
    return [psutil.Process(pid) for pid in svc.pids()]


def test_start_ready_verify_stop(services: list[Service], tmp_path: Path, server_py: Path) -> None:
    port = free_port()
    svc = make(services, tmp_path, start=[PY, str(server_py), str(port)], ready_url="/", port=port)
    svc.start()
    took = svc.wait_ready()
    assert 0 < took < 20
    svc.verify_listener()
    with urllib.request.urlopen(f"{svc.spec.base_url}/", timeout=5) as resp:
        assert resp.status == 200
    procs = snapshot(svc)
    assert procs and procs[0].pid == svc.pid
    assert svc.death() is None
    svc.check_alive()
    svc.stop()
    svc.stop()  # idempotent
    assert_gone(procs)
    assert not svc.killed_after_grace
    assert svc.death() is None  # stopped by us is not a crash
    assert "listening on" in svc.log_tail()
    assert (tmp_path / "w0" / "tmp").is_dir()  # per-arm TMPDIR


def test_context_manager_tcp_readiness(tmp_path: Path, server_py: Path) -> None:
    port = free_port()
    spec = ServiceSpec(start=[PY, str(server_py), str(port)], ready_port=port, workdir=tmp_path)
    with Service(spec) as svc:
        procs = snapshot(svc)
        assert svc.ready_after_s is not None
    assert_gone(procs)


def test_never_ready_times_out_with_log_tail(services: list[Service], tmp_path: Path) -> None:
    code = "import time; print('booting slowly', flush=True); time.sleep(120)"
    svc = make(
        services, tmp_path, start=[PY, "-c", code], ready_port=free_port(), ready_timeout=1.5
    )
    svc.start()
    procs = snapshot(svc)
    t0 = time.monotonic()
    with pytest.raises(ServiceError) as info:
        svc.wait_ready()
    assert time.monotonic() - t0 < 15  # the timeout (1.5 s) plus a wide margin
    assert "not ready after 1.5s" in str(info.value)
    assert "booting slowly" in info.value.log_tail
    assert_gone(procs)  # wait_ready failure stops the service


def test_exits_immediately_reports_exit_code_and_log(
    services: list[Service], tmp_path: Path
) -> None:
    code = "import sys; print('error: DATABASE_URL is not set', file=sys.stderr); sys.exit(3)"
    svc = make(services, tmp_path, start=[PY, "-c", code], ready_port=free_port())
    svc.start()
    with pytest.raises(ServiceError) as info:
        svc.wait_ready()
    assert "exit code 3" in str(info.value)
    assert info.value.returncode == 3
    assert "DATABASE_URL is not set" in info.value.log_tail


def test_command_not_found(services: list[Service], tmp_path: Path) -> None:
    svc = make(services, tmp_path, start=["/nonexistent/api-server"], ready_port=free_port())
    with pytest.raises(ServiceError, match="cannot run"):
        svc.start()


def test_dies_mid_run_detected_with_exit_code(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    flag = tmp_path / "die"
    svc = make(
        services,
        tmp_path,
        start=[PY, str(server_py), str(port), "--die-on", str(flag)],
        ready_url="/",
        port=port,
    )
    svc.start()
    svc.wait_ready()
    procs = snapshot(svc)
    flag.touch()
    deadline = time.monotonic() + 15
    while svc.death() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    death = svc.death()
    assert death is not None
    assert death.exit_code == 7 and death.signal is None
    assert "out of widgets" in death.log_tail
    assert death.to_dict()["description"] == "exit code 7"
    with pytest.raises(ServiceError, match="died") as info:
        svc.check_alive()
    assert info.value.returncode == 7
    svc.stop()
    assert_gone(procs)


def test_killed_by_signal_reports_signal(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    svc = make(services, tmp_path, start=[PY, str(server_py), str(port)], ready_port=port)
    svc.start()
    svc.wait_ready()
    os.kill(svc.pid or 0, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while svc.death() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    death = svc.death()
    assert death is not None and death.signal == signal.SIGKILL
    assert "SIGKILL" in death.describe()


def test_ignores_sigterm_is_killed_after_grace(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    svc = make(
        services,
        tmp_path,
        start=[PY, str(server_py), str(port), "--ignore-term"],
        ready_url="/",
        port=port,
        stop_timeout=0.5,
    )
    svc.start()
    svc.wait_ready()
    procs = snapshot(svc)
    t0 = time.monotonic()
    svc.stop()
    assert time.monotonic() - t0 < 15
    assert svc.killed_after_grace
    assert_gone(procs)
    assert "SIGKILL" in svc.log_tail()


def test_shell_string_with_child_leaves_nothing(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    # The shell forks the server and waits: two processes, the listener is the child.
    svc = make(
        services, tmp_path, start=f"'{PY}' '{server_py}' {port} & wait", ready_url="/", port=port
    )
    svc.start()
    svc.wait_ready()
    procs = snapshot(svc)
    assert len(procs) >= 2
    svc.verify_listener(port)  # held by a descendant, which counts
    svc.stop()
    assert_gone(procs)


def test_orphaned_grandchild_outside_group_is_killed(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    # setsid moves the server into a session of its own: only descendant tracking finds it.
    code = f"import os,subprocess,sys,time; subprocess.Popen(['{PY}','{server_py}','{port}'], start_new_session=True); time.sleep(300)"
    svc = make(services, tmp_path, start=[PY, "-c", code], ready_url="/", port=port)
    svc.start()
    svc.wait_ready()
    procs = snapshot(svc)
    assert len(procs) == 2
    svc.stop()
    assert_gone(procs)


def test_port_held_by_another_process_is_an_error(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    blocker = subprocess.Popen([PY, str(server_py), str(port)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait for the blocker to listen
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        svc = make(
            services, tmp_path, start=[PY, str(server_py), str(port)], ready_url="/", port=port
        )
        svc.start()
        with pytest.raises(ServiceError) as info:
            svc.wait_ready()  # the URL answers (the blocker), but the service died: not ready
        message = str(info.value)
        assert "Address already in use" in info.value.log_tail
        assert str(blocker.pid) in message
    finally:
        blocker.terminate()
        blocker.wait(timeout=10)


def test_alive_but_not_listening_on_its_port_is_an_error(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port, other_port = free_port(), free_port()
    blocker = subprocess.Popen([PY, str(server_py), str(port)], stdout=subprocess.DEVNULL)
    try:
        # The service listens elsewhere; whatever answers on `port` is not it.
        svc = make(
            services,
            tmp_path,
            start=[PY, str(server_py), str(other_port)],
            ready_url="/",
            port=port,
            ready_timeout=2,
        )
        svc.start()
        with pytest.raises(ServiceError, match="not this service"):
            svc.wait_ready()
    finally:
        blocker.terminate()
        blocker.wait(timeout=10)


def test_setup_runs_first_and_failure_is_reported(
    services: list[Service], tmp_path: Path, server_py: Path
) -> None:
    port = free_port()
    marker = tmp_path / "built"
    svc = make(
        services,
        tmp_path,
        setup=[PY, "-c", f"open({str(marker)!r}, 'w').write('x'); print('setup done')"],
        start=f"test -f '{marker}' && exec '{PY}' '{server_py}' {port}",
        ready_url="/",
        port=port,
    )
    svc.start()
    svc.wait_ready()
    assert "setup done" in svc.log_tail()
    svc.stop()

    bad = make(
        services,
        tmp_path,
        setup="echo compiling; exit 4",
        start=[PY, "-c", "pass"],
        ready_port=port,
    )
    with pytest.raises(ServiceError, match=r"setup failed \(exit code 4\)") as info:
        bad.start()
    assert "compiling" in info.value.log_tail
    assert bad.pid is None  # the start command never ran


def test_setup_timeout(services: list[Service], tmp_path: Path) -> None:
    svc = make(
        services,
        tmp_path,
        setup="sleep 60",
        setup_timeout=0.5,
        start=[PY, "-c", "pass"],
        ready_port=free_port(),
    )
    t0 = time.monotonic()
    with pytest.raises(ServiceError, match="setup did not finish"):
        svc.start()
    assert time.monotonic() - t0 < 15


def test_secrets_masked_in_log_tail(services: list[Service], tmp_path: Path) -> None:
    secret = "s3cr3t-token-value"
    code = "import os; print('token=' + os.environ['API_TOKEN'], flush=True)"
    svc = make(
        services,
        tmp_path,
        start=[PY, "-c", code],
        env={"API_TOKEN": secret},
        ready_port=free_port(),
        mask=[secret],
    )
    svc.start()
    with pytest.raises(ServiceError) as info:
        svc.wait_ready()
    assert secret not in str(info.value)
    assert "token=***" in info.value.log_tail


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU pinning is Linux-only")
def test_cpu_pinning(services: list[Service], tmp_path: Path, server_py: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    port = free_port()
    svc = make(
        services, tmp_path, start=[PY, str(server_py), str(port)], ready_port=port, cpus=[cpu]
    )
    svc.start()
    svc.wait_ready()
    assert os.sched_getaffinity(svc.pid or 0) == {cpu}
    bad = make(
        services,
        tmp_path,
        start=[PY, "-c", "import time; time.sleep(30)"],
        ready_port=free_port(),
        cpus=[4096],
    )
    with pytest.raises(ServiceError, match="cannot pin"):
        bad.start()


def test_sampler_cpu_increases_for_busy_child(services: list[Service], tmp_path: Path) -> None:
    code = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"
    svc = make(services, tmp_path, start=[PY, "-c", code], ready_port=free_port())
    svc.start()
    sampler = svc.start_sampler(interval=0.1)
    before = svc.cpu_seconds()
    deadline = time.monotonic() + 20
    while (
        len(sampler.series) < 5 or svc.cpu_seconds() - before < 0.2
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    series = sampler.series
    assert len(series) >= 5
    cpu = [row["cpu_s"] for row in series]
    assert cpu == sorted(cpu) and cpu[-1] > cpu[0]
    assert svc.cpu_seconds() - before >= 0.2
    assert all(row["rss_bytes"] > 1_000_000 for row in series)
    assert series[-1]["t"] > series[0]["t"]
    procs = snapshot(svc)
    svc.stop()
    assert_gone(procs)


def test_substitute() -> None:
    out = substitute(
        "--port {{ port }} --db {{workdir}}/x {{ env.HOME_X }}",
        {"port": 1, "workdir": "/w"},
        {"HOME_X": "h"},
    )
    assert out == "--port 1 --db /w/x h"
    with pytest.raises(KeyError):
        substitute("{{ nope }}", {})


def test_demo_api_as_a_service(services: list[Service], tmp_path: Path) -> None:
    pytest.importorskip("perfgate.cli._demo_api")
    port = free_port()
    db = tmp_path / "demo.sqlite"
    start = [
        PY,
        "-m",
        "perfgate",
        "demo-api",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db),
    ]
    svc = make(services, tmp_path, start=start, ready_url="/health", port=port, ready_timeout=60)
    svc.start()
    svc.wait_ready()
    svc.verify_listener()
    procs = snapshot(svc)
    svc.stop()
    assert_gone(procs)
    assert not svc.killed_after_grace  # the demo API stops on SIGTERM
