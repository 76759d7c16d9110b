"""Structured logs: one JSON line per request, and the request id on every line written while serving it."""
import atexit
import json
import logging
import queue
import re
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from collections.abc import Callable
from typing import TextIO
from datetime import datetime, timezone

from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from .client_ip import client_ip
from .request_context import current_request_id

logger = logging.getLogger("tessera.requests")

#: Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
#: Extras that are live objects rather than data (django.request and django.server attach the request or socket).
_UNSERIALIZABLE_EXTRAS = frozenset({"request", "server_time"})


class RequestIDFilter(logging.Filter):
    """Stamps `request_id` on every record, whichever logger wrote it, so one grep finds a request's story."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id()
        return True


#: A path and its query string, as servers write them into their lines (`"GET /ws/jobs/1/?ticket=… HTTP/1.1"`).
_PATH_AND_QUERY = re.compile(r"""(/[^\s?"']*)\?[^\s"']*""")


def without_query_strings(text: str) -> str:
    """`text` with the query string cut off every path in it: clients put tokens there (`?token=`, `?ticket=`).
    The server loggers below go through it, and so do nginx's lines behind `make serve` (config/serve/production.py)."""
    return _PATH_AND_QUERY.sub(r"\1", text)

#: An API key named in a path (`DELETE /auth/api-keys/tsk_<prefix>_<secret>`, apps/accounts): only its public
#: prefix may be written anywhere.
_API_KEY_IN_PATH = re.compile(r"(/tsk_[0-9a-f]+_)[A-Za-z0-9_-]+")


def recordable_path(path: str) -> str:
    """`path` as logs and the audit trail record it: an API key in it cut to its public prefix."""
    return _API_KEY_IN_PATH.sub(r"\1…", path)


#: The server's own loggers: "uvicorn.error" also carries the `"WebSocket /ws/jobs/?token=…" [accepted]` lines.
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


class QueryStringFilter(logging.Filter):
    """Cuts the query string off every path a record holds: clients put tokens there (`/ws/jobs/?token=`,
    `?ticket=`), and no log line may carry one. The request log below never writes a query string at all.

    `install_on_server_loggers()` puts it on uvicorn's loggers in code rather than in LOGGING: a logger named
    in LOGGING loses its handlers, and uvicorn writes access lines only while its access logger has one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(without_query_strings(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True

    @classmethod
    def install_on_server_loggers(cls) -> None:
        for name in SERVER_LOGGERS:
            server_logger = logging.getLogger(name)
            if not any(isinstance(existing, cls) for existing in server_logger.filters):
                server_logger.addFilter(cls())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's `extra` fields.

    Hand-written rather than a dependency: it is twenty lines, and log aggregators need nothing more
    than flat keys and one record per line (a traceback is a string field, never extra lines).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in _UNSERIALIZABLE_EXTRAS:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class CurrentStderrHandler(logging.StreamHandler):
    """A StreamHandler that, unless given a stream, writes to `sys.stderr` as it is when a line is written (as
    logging's own last-resort handler does), not as it was when logging was configured: a `sys.stderr` swapped
    in meanwhile and since closed (pytest's capture of one test) would otherwise swallow every later line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        logging.Handler.__init__(self)  # not StreamHandler's, which would pin sys.stderr as it is now
        self.chosen = stream

    @property
    def stream(self) -> TextIO:
        return self.chosen if self.chosen is not None else sys.stderr


class BackgroundStreamHandler(QueueHandler):
    """A StreamHandler (stderr by default) whose formatting and writing happen in a thread of their own, so a
    request never waits on its log lines: the request's thread only stamps the record (this handler's filters,
    such as RequestIDFilter, run there, where the request id is known) and queues it.

    LOGGING names it as the console handler; Python 3.11's dictConfig cannot yet wire a QueueListener itself.
    The listener stops, writing whatever is queued, at exit. `flush()` waits until every queued line is written.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(queue.Queue())
        self.target = CurrentStderrHandler(stream)
        self.listener = QueueListener(self.queue, self.target)
        self.listener.start()
        atexit.register(self.listener.stop)

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        super().setFormatter(fmt)
        self.target.setFormatter(fmt)

    @property
    def stream(self) -> TextIO | None:
        """Where lines go: a stream, or None for whatever `sys.stderr` is when a line is written."""
        return self.target.chosen

    @stream.setter
    def stream(self, stream: TextIO | None) -> None:
        self.target.chosen = stream

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it is: the listener is a thread of this process, which formats it (QueueHandler's own
        `prepare` would format it here, in the request's thread)."""
        return record

    def flush(self) -> None:
        self.queue.join()
        self.target.flush()


class RequestLogMiddleware:
    """Writes the access log line of each request to the `tessera.requests` logger.

    It sits inside RequestIDMiddleware, so the id is set while it runs. The path is logged without its
    query string: WebSocket and OAuth clients put tokens there. The user and tenant are read after the
    response, when DRF has authenticated (DRF copies its user onto the Django request, and the generator
    sets `tenant` there too); a session user nobody looked at stays unlooked-at, to spare a query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        tenant = getattr(request, "tenant", None)
        path = recordable_path(request.path)
        logger.log(
            logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %s", request.method, path, response.status_code,
            extra={"method": request.method, "path": path, "status": response.status_code,
                   "duration_ms": duration_ms, "user_id": _user_id(request),
                   "tenant_id": getattr(tenant, "pk", None), "client_ip": client_ip(request)},
        )
        return response


def _user_id(request) -> int | None:
    user = vars(request).get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return user.pk if user is not None and user.is_authenticated else None
