"""Real server processes for tests that cross process boundaries (the app on the test database, or as `make run`
serves it on the embedded default), and a TCP relay that can cut a service off."""
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """The app served by `python -m <module>` in its own process, on the test database, with extra environment and
    `options` (`--log-level info`). `module` is one of the project's serving commands (config/serve/): uvicorn by
    default, `config.serve.wsgi` (granian), or `config.serve.production` (`make serve`'s nginx in front of both);
    `command` replaces `python -m <module>` (a console script's command line), started in `cwd` (the checkout by
    default); a variable given as None in `environment` is unset (PYTHONPATH, for a server that must not see the
    checkout).

    Everything the server writes (its logs: the app's on stderr, the servers' own lines on stdout) goes to
    `log_path`; `log()` reads it, also after `stop()`.
    """

    def __init__(self, environment: dict, *, options: tuple[str, ...] = ("--log-level", "warning"),
                 module: str = "config.serve", start_timeout: float = 30, stop_timeout: float = 10,
                 command: list[str] | None = None, cwd: Path = ROOT):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stop_timeout = stop_timeout
        env = {name: value for name, value in {**os.environ, "DEBUG": "false", "PYTHONPATH": str(ROOT),
                                               **environment}.items() if value is not None}
        descriptor, self.log_path = tempfile.mkstemp(prefix="tessera-server-", suffix=".log")
        with os.fdopen(descriptor, "wb") as log_file:
            self.process = subprocess.Popen(
                [*(command or [sys.executable, "-m", module]), "--port", str(self.port), *options], cwd=cwd,
                env=env, stdout=log_file, stderr=subprocess.STDOUT)
        self._wait_until_up(start_timeout)

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def _wait_until_up(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()[-2000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout:.0f} s: {self.log()[-2000:]}")

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body) without raising on error statuses."""
        request = urllib.request.Request(f"{self.url}{path}", data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def remove_log(self):
        Path(self.log_path).unlink(missing_ok=True)


def run_like_make_run(environment: dict, *command: str, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *command], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not start within 30 s")


@pytest.fixture
def demo_environment() -> dict:
    """Variables demo_server adds to `make run`'s environment; a test module overrides it to allow what it needs."""
    return {}


@pytest.fixture
def demo_server(tmp_path, demo_environment):
    """(url, environment, directory): uvicorn and qcluster on a freshly migrated and seeded SQLite file, with
    `make run`'s settings (no Redis, no test-only app) and `demo_environment`, in tmp_path, where the README's
    commands run."""
    data = tmp_path / "data"
    data.mkdir()
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("REDIS_URL", "EXTRA_INSTALLED_APPS", "TEST_DATABASE_NAME", "DATABASE_URL")}
    environment.update({"DEBUG": "true", "SECRET_KEY": "readme-test-secret-key-long-enough-for-hs256-signing",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PYTHONPATH": str(ROOT),
                        "MIGRATION_ALLOWED_ROOTS": str(data), "MIGRATION_BACKUP_ROOT": str(data / ".backups"),
                        "PROJECT_REPOSITORY_ROOTS": str(data), **demo_environment})
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=environment, check=True,
                       capture_output=True)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    url = f"http://127.0.0.1:{free_port()}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        workers = run_like_make_run(environment, "manage.py", "qcluster", log=log)
        server = run_like_make_run(environment, "-m", "config.serve", "--port", url.rsplit(":", 1)[1], log=log)
        try:
            wait_until_up(url, server, log_path)
            yield url, environment, tmp_path
        finally:
            for process in (server, workers):
                process.terminate()
                process.wait(timeout=15)


@contextmanager
def running_servers(environment: dict, *, count: int = 2) -> Iterator[list[ServerProcess]]:
    """`count` servers started with `environment`, stopped (and their logs removed) when the block ends."""
    started = []
    try:
        for _ in range(count):
            started.append(ServerProcess(environment))
        yield started
    finally:
        for server in started:
            server.stop()
            server.remove_log()


class TcpRelay:
    """Forwards 127.0.0.1:<port> to a real service; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self._open = threading.Event()
        self._stopping = False
        self._connections: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.restore()
        self._thread.start()

    def cut(self):
        self._open.clear()
        for connection in list(self._connections):
            connection.close()
        self._connections.clear()

    def restore(self):
        self._open.set()

    def close(self):
        self._stopping = True
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self):
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket):
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while self._open.is_set():
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()
