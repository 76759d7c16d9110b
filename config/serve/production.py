"""`python -m config.serve.production` (what `make serve` runs): Tessera as production serves it, at one origin.

    nginx     listens on --host and PORT (0.0.0.0:8000): /ws/ goes to uvicorn, everything else to granian
    granian   HTTP (WSGI: config.wsgi), WEB_CONCURRENCY worker processes (default: one per CPU), on a unix socket
    uvicorn   WebSockets (ASGI: config.asgi), on a unix socket
    qcluster  django-q2's worker cluster for background jobs (`--no-worker` when workers run elsewhere)

Why two app servers: Tessera answers more requests per second, for less CPU, under granian's WSGI interface than
under an ASGI server (README, "Production serving", has the figures), while WebSockets need ASGI; the Channels
docs describe this split, and nginx, a real reverse proxy, makes the two one origin for a browser. The app servers
listen only on unix sockets in a run directory of this process's own (0700), so nothing but nginx reaches them
and the one `X-Forwarded-For` entry the app believes (TRUSTED_PROXY_COUNT=1) is the one nginx appended.

Before serving it migrates and collects static files (`--no-release` when a release phase does that). DEBUG is
off whatever the environment or .env says. SECRET_KEY comes from the environment or from .env, as for every
Django command here; without one it refuses to start instead of inventing one, since tokens, sessions and the
encrypted migration credentials must outlive a restart and agree between hosts. When one process ends, it stops
the others and exits, so a supervisor (systemd, a container runtime) sees the failure; SIGTERM or Ctrl-C stops all.
"""
import argparse
import importlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from string import Template

from django.core.exceptions import ImproperlyConfigured

from apps.platform.request_log import without_query_strings

#: Where the processes start: the checkout (or site-packages, installed). Each is started as a module
#: (`python -m ...`), never as a file of the checkout, so an installed package serves the same.
BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: manage.py's commands, as a module (config/__main__.py).
MANAGE = [sys.executable, "-m", "config"]
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
STOP_TIMEOUT = 20
MIN_JWT_SECRET_LENGTH = 32


def arguments(argv: list[str], prog: str = "python -m config.serve.production") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="0.0.0.0", help="nginx's address (every interface)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="nginx's port (PORT)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2)),
                        help="granian worker processes (WEB_CONCURRENCY)")
    parser.add_argument("--no-release", dest="release", action="store_false",
                        help="skip migrate and collectstatic (a release phase runs them)")
    parser.add_argument("--no-worker", dest="worker", action="store_false",
                        help="start no django-q2 cluster (workers run elsewhere)")
    # The Migration Assistant guide's options (`migration-assistant serve`, config/cli.py).
    parser.add_argument("--auth-enabled", action=argparse.BooleanOptionalAction, default=True,
                        help="authentication is always on; --no-auth-enabled is refused")
    parser.add_argument("--jwt-secret", help=f"the key that signs access and refresh tokens (JWT_SIGNING_KEY; default "
                        f"SECRET_KEY), at least {MIN_JWT_SECRET_LENGTH} characters; the environment keeps it out of "
                        "the process list")
    return parser.parse_args(argv)


def apply_auth_options(options: argparse.Namespace) -> None:
    """The guide's --auth-enabled and --jwt-secret, as Tessera can honour them. Its API never serves anyone
    unauthenticated, so turning authentication off is refused rather than ignored; the JWT key reaches every
    process through the environment, as JWT_SIGNING_KEY would."""
    if not options.auth_enabled:
        sys.exit("Cannot serve with --no-auth-enabled: Tessera's API always authenticates its callers (a token, an "
                 "API key or a client application's OAuth2 token); only /, the /health probes and the sign-in paths "
                 "are open.")
    if options.jwt_secret is not None:
        if len(options.jwt_secret) < MIN_JWT_SECRET_LENGTH:
            sys.exit(f"--jwt-secret must be at least {MIN_JWT_SECRET_LENGTH} characters (HS256 needs a key as long as "
                     "its 256-bit digest), e.g. $(python3 -c 'import secrets; print(secrets.token_urlsafe(48))').")
        os.environ["JWT_SIGNING_KEY"] = options.jwt_secret


def check_settings() -> None:
    """Load the settings with DEBUG off, as the servers will, and say plainly what is missing. The settings read
    .env into this process's environment, so everything below (TRUSTED_PROXY_COUNT too) sees what .env says."""
    os.environ["DEBUG"] = "false"
    try:
        importlib.import_module("config.settings")
    except ImproperlyConfigured as error:
        hint = ("\nSet it in the environment or in .env, e.g. SECRET_KEY=$(python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'); every web and worker process must share it."
                if "SECRET_KEY" in str(error) else "")
        sys.exit(f"Cannot serve: {error}{hint}")


def production_environment() -> dict[str, str]:
    """The environment every process gets: this one, with DEBUG off and nginx counted as a trusted proxy."""
    environment = {**os.environ, "DEBUG": "false"}
    proxies = environment.setdefault("TRUSTED_PROXY_COUNT", "1")
    if not proxies.isdigit() or int(proxies) < 1:
        sys.exit("make serve puts nginx in front of the app: TRUSTED_PROXY_COUNT must count it (1, or more "
                 f"when proxies of your own stand before nginx), not {proxies!r}.")
    return environment


def release(environment: dict[str, str]) -> None:
    """What a release phase runs (the Procfile's `release`), before any server starts."""
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        if subprocess.run([*MANAGE, *command], cwd=BASE_DIR, env=environment).returncode:
            sys.exit(f"manage.py {command[0]} failed (above); nothing was started.")


def nginx_config(run_dir: Path, *, listen: str, http_socket: Path, websocket_socket: Path, proxies: int) -> str:
    """The nginx config for this start, from config/serve/nginx.conf.template."""
    # Run as root, nginx's workers would switch to `nobody`, who cannot reach the sockets in a 0700 directory
    # of root's: they run as the user that runs the app servers.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        USER_DIRECTIVE=user, NGINX_WORKERS="auto", RUN_DIR=str(run_dir), LISTEN=listen,
        HTTP_SOCKET=str(http_socket), WEBSOCKET_SOCKET=str(websocket_socket),
        FORWARDED_PROTO="$scheme" if proxies == 1 else "$http_x_forwarded_proto")


def nginx_executable() -> str | None:
    """Where nginx is (Debian puts it in /usr/sbin, which a user's PATH may lack), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


class Ended(Exception):
    """Serving is over: a stop signal came (status 0), or a process ended or never answered (its status, else 1)."""

    def __init__(self, reason: str, status: int = 1):
        super().__init__(reason)
        self.status = status


class Processes:
    """The processes of one start. Each writes to this process's stdout and stderr, nginx's through a filter that
    cuts query strings. `check()` (and `watch()`, which keeps checking) raises `Ended` when one of them has ended
    or a stop signal has come; `stop()` ends them all."""

    def __init__(self, environment: dict[str, str]):
        self.environment = environment
        self.running: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()

    def start(self, name: str, command: list[str], *, filter_stderr: bool = False) -> None:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=self.environment,
                                   stderr=subprocess.PIPE if filter_stderr else None)
        if filter_stderr:
            threading.Thread(target=self._relay, args=(process.stderr,), daemon=True).start()
        self.running[name] = process

    @staticmethod
    def _relay(stream) -> None:
        for line in iter(stream.readline, b""):
            sys.stderr.write(without_query_strings(line.decode(errors="replace")))
            sys.stderr.flush()

    def wait_for_socket(self, path: Path, timeout: float = 60) -> None:
        """Return once `path` accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            with socket.socket(socket.AF_UNIX) as probe:
                if probe.connect_ex(str(path)) == 0:
                    return
            time.sleep(0.1)
        raise Ended(f"nothing answered on {path} within {timeout:.0f} s")

    def watch(self) -> None:
        """Block until a stop signal or until a process ends."""
        while True:
            self.check()
            self.stopping.wait(0.5)

    def check(self) -> None:
        if self.stopping.is_set():
            raise Ended("stopped", 0)
        for name, process in self.running.items():
            if process.poll() is not None:
                raise Ended(f"{name} exited with status {process.returncode}", process.returncode or 1)

    def stop(self) -> None:
        """SIGTERM to every process (nginx, the front, first), then SIGKILL to those still there after a while."""
        for process in reversed(self.running.values()):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(options: argparse.Namespace, processes: Processes, run_dir: Path) -> None:
    """Start the app servers and the worker cluster, then nginx once both app servers answer; then watch."""
    http_socket, websocket_socket = run_dir / "http.sock", run_dir / "websocket.sock"
    processes.start("granian", [sys.executable, "-m", "config.serve.wsgi", "--uds", str(http_socket),
                                "--workers", str(options.workers), "--respawn-failed-workers"])
    processes.start("uvicorn", [sys.executable, "-m", "config.serve", "--uds", str(websocket_socket)])
    if options.worker:
        processes.start("qcluster", [*MANAGE, "qcluster"])
    processes.wait_for_socket(http_socket)
    processes.wait_for_socket(websocket_socket)
    host = f"[{options.host}]" if ":" in options.host else options.host
    config = run_dir / "nginx.conf"
    config.write_text(nginx_config(run_dir, listen=f"{host}:{options.port}", http_socket=http_socket,
                                   websocket_socket=websocket_socket,
                                   proxies=int(processes.environment["TRUSTED_PROXY_COUNT"])))
    processes.start("nginx", [nginx_executable(), "-p", str(run_dir), "-c", str(config), "-e", "stderr",
                              "-g", "daemon off;"], filter_stderr=True)
    print(f"Serving http://{host}:{options.port}/ (docs at /api/docs/, WebSockets at /ws/): nginx, granian with "
          f"{options.workers} workers, uvicorn" + (", a django-q2 cluster" if options.worker else "")
          + ". Ctrl-C stops them all.", flush=True)
    processes.watch()


def main(argv: list[str], prog: str = "python -m config.serve.production") -> int:
    options = arguments(argv, prog)
    apply_auth_options(options)
    check_settings()
    environment = production_environment()
    if not nginx_executable():
        sys.exit("nginx is not installed: `make serve` installs Debian's package (apt-get install nginx).")
    if options.release:
        release(environment)
    processes = Processes(environment)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: processes.stopping.set())
    with tempfile.TemporaryDirectory(prefix="tessera-serve-") as run_dir:
        try:
            serve(options, processes, Path(run_dir))
        except Ended as ended:
            if ended.status:
                print(f"Serving ends: {ended}; stopping the others.", file=sys.stderr)
            return ended.status
        finally:
            processes.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
