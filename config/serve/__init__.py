"""Every server Tessera runs starts here, with the options its promises rest on.

- `python -m config.serve [APP] [uvicorn options]`: uvicorn, ASGI, HTTP and WebSockets in one process
  (`make run`, the tests, and the WebSocket server behind `make serve`).
- `python -m config.serve.wsgi [APP] [granian options]`: granian's WSGI interface, HTTP only: Tessera answers
  more requests per second under it than under uvicorn or gunicorn (README, "Production serving").
- `python -m config.serve.production`: what `make serve` runs: nginx at one origin in front of both (the
  split the Channels docs describe), and a django-q2 worker cluster beside them.

The makefile, Procfile, README, tests and benchmarks start servers only through these (a test reads them to
make sure), so no serving command can forget one of the promises:

- No proxy header is believed by a server itself. By default uvicorn rewrites the client address from
  `X-Forwarded-For` sent from loopback, so a client (or a proxy passing on what the client sent) would pick
  its own rate-limit bucket and audit address. Who is calling is decided in one place,
  apps/platform/client_ip.py, from `REMOTE_ADDR` and `TRUSTED_PROXY_COUNT`. (granian never reads these headers
  unless the app is wrapped in its `granian.utils.proxies`, which Tessera never does.)
- No access log of a server's own. The JSON request log (apps/platform/request_log.py) is the access log, and it
  never writes a query string; a server's own line would carry one (and a `?token=`) in another format.
  nginx keeps no access log either, and its error lines lose their query strings before they are written.

Options given after these come later on the command line, and both servers take the last value of a flag,
so a deployment that means otherwise can still say so (`--proxy-headers`, `--access-log`).
"""
ASGI_APPLICATION = "config.asgi:application"
WSGI_APPLICATION = "config.wsgi:application"
UVICORN_OPTIONS = ["--no-proxy-headers", "--no-access-log"]
GRANIAN_OPTIONS = ["--interface", "wsgi", "--no-ws", "--no-access-log"]
#: Python threads per granian worker. Each thread holds the GIL in turn, and a thread more than the worker keeps busy
#: only adds GIL hand-offs: measured on 2 cores (`make bench-race`, Task endpoints, 2 workers, wrk at 64 connections,
#: features on, two passes), 10 threads against 20 served list 355 and 325 req/s against 294 and 285, detail 807 and
#: 779 against 664 and 608, create 461 and 404 against 437 and 371; 6 threads no more than 10. A worker's PostgreSQL
#: pool (DB_POOL_MAX_SIZE) still holds more connections than its threads can use.
GRANIAN_THREADS = ["--blocking-threads", "10"]


def split_application(arguments: list[str], default: str) -> tuple[str, list[str]]:
    """(APP, options) of `python -m config.serve… [APP] [options]`: APP is a first argument that is no option."""
    if arguments and not arguments[0].startswith("-"):
        return arguments[0], arguments[1:]
    return default, arguments


def uvicorn_arguments(arguments: list[str]) -> list[str]:
    """uvicorn's arguments for `python -m config.serve <arguments>`."""
    application, options = split_application(arguments, ASGI_APPLICATION)
    return [application, *UVICORN_OPTIONS, *options]


def granian_arguments(arguments: list[str]) -> list[str]:
    """granian's arguments for `python -m config.serve.wsgi <arguments>`."""
    application, options = split_application(arguments, WSGI_APPLICATION)
    return [*GRANIAN_OPTIONS, *GRANIAN_THREADS, *options, application]
