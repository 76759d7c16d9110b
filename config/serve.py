"""`python -m config.serve [APP] [uvicorn options]`: uvicorn with the options Tessera's promises rest on.

Every server the project starts goes through here (`make run`, the README's production command,
tests/servers.py, bench/), so no serving command can forget one of them:

- `--no-proxy-headers`: by default uvicorn believes `X-Forwarded-For` from loopback and rewrites the
  client address before the app sees it, so a client (or a proxy passing on what the client sent) picks
  its own rate-limit bucket and audit address. Who is calling is decided in one place,
  apps/platform/client_ip.py, from `REMOTE_ADDR` and `TRUSTED_PROXY_COUNT`.
- `--no-access-log`: the JSON request log (apps/platform/request_log.py) is the access log, and it never
  writes a query string; uvicorn's own line would carry one (and a `?token=`) in another format.

APP defaults to `config.asgi:application`. Options given here come after these, and uvicorn takes the
last value of a flag, so a deployment that means otherwise can still say so (`--proxy-headers`).
"""
import sys

from uvicorn.main import main as uvicorn_main

APPLICATION = "config.asgi:application"
SERVING_OPTIONS = ["--no-proxy-headers", "--no-access-log"]


def command_line(arguments: list[str]) -> list[str]:
    """uvicorn's arguments for `python -m config.serve <arguments>`."""
    if arguments and not arguments[0].startswith("-"):
        application, options = arguments[0], arguments[1:]
    else:
        application, options = APPLICATION, arguments
    return [application, *SERVING_OPTIONS, *options]


if __name__ == "__main__":
    uvicorn_main.main(args=command_line(sys.argv[1:]), prog_name="python -m config.serve")
