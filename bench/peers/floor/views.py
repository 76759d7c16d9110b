"""The Task endpoints in raw SQL: one query for the user, one or two for the tasks, orjson for the body."""
from datetime import date

import orjson
from django.db import connection
from django.http import HttpResponse

from bench.peers.tokens import InvalidToken, access_token_claims, check_user

PAGE_SIZE = 50
COLUMNS = ("id", "title", "description", "status", "priority", "due_date", "created_at", "updated_at")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM tasks_task"
STATUSES = {"pending", "in_progress", "completed", "cancelled"}
PRIORITIES = {"low", "medium", "high", "critical"}


def json_response(body, status=200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body, option=orjson.OPT_UTC_Z), status=status, content_type="application/json")


def authenticated(view):
    """Runs `view(request, cursor, user_id, tenant_id, ...)` for a valid token of an active user, else a 401."""

    def wrapper(request, **kwargs):
        try:
            claims = access_token_claims(request.headers.get("Authorization"))
            tenant_id = int(request.headers.get("X-Tenant-ID", ""))
        except InvalidToken as error:
            return json_response({"detail": str(error)}, 401)
        except ValueError:
            return json_response({"detail": "X-Tenant-ID must be a tenant id."}, 400)
        with connection.cursor() as cursor:
            cursor.execute("SELECT is_active, password FROM accounts_user WHERE id = %s", [int(claims["user_id"])])
            row = cursor.fetchone()
            try:
                if row is None:
                    raise InvalidToken("User not found.")
                check_user(claims, is_active=row[0], password=row[1])
            except InvalidToken as error:
                return json_response({"detail": str(error)}, 401)
            return view(request, cursor, int(claims["user_id"]), tenant_id, **kwargs)

    return wrapper


def as_dict(row) -> dict:
    return dict(zip(COLUMNS, row))


@authenticated
def tasks(request, cursor, user_id, tenant_id):
    if request.method == "POST":
        return task_create(request, cursor, user_id, tenant_id)
    if request.method != "GET":
        return json_response({"detail": "Method not allowed."}, 405)
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 0
    if page < 1:
        return json_response({"detail": "Invalid page."}, 404)
    cursor.execute("SELECT count(*) FROM tasks_task WHERE tenant_id = %s AND user_id = %s", [tenant_id, user_id])
    count = cursor.fetchone()[0]
    cursor.execute(f"{SELECT} WHERE tenant_id = %s AND user_id = %s ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                   [tenant_id, user_id, PAGE_SIZE, (page - 1) * PAGE_SIZE])
    base = request.build_absolute_uri(request.path)
    return json_response({
        "count": count,
        "next": f"{base}?page={page + 1}" if page * PAGE_SIZE < count else None,
        "previous": f"{base}?page={page - 1}" if page > 1 else None,
        "results": [as_dict(row) for row in cursor.fetchall()],
    })


def task_create(request, cursor, user_id, tenant_id):
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return json_response({"detail": "Malformed JSON."}, 400)
    if not isinstance(data, dict):
        return json_response({"detail": "Expected a JSON object."}, 400)
    errors = {}
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 255:
        errors["title"] = ["A title of 1 to 255 characters is required."]
    description = data.get("description", "")
    if not isinstance(description, str):
        errors["description"] = ["Must be a string."]
    status, priority = data.get("status", "pending"), data.get("priority", "medium")
    if status not in STATUSES:
        errors["status"] = [f'"{status}" is not a valid choice.']
    if priority not in PRIORITIES:
        errors["priority"] = [f'"{priority}" is not a valid choice.']
    due_date = data.get("due_date")
    try:
        due_date = date.fromisoformat(due_date) if due_date is not None else None
    except (TypeError, ValueError):
        errors["due_date"] = ["Must be a date, YYYY-MM-DD."]
    if errors:
        return json_response(errors, 400)
    cursor.execute(
        "INSERT INTO tasks_task (tenant_id, user_id, title, description, status, priority, due_date, created_at,"
        f" updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, now(), now()) RETURNING {', '.join(COLUMNS)}",
        [tenant_id, user_id, title, description, status, priority, due_date])
    return json_response(as_dict(cursor.fetchone()), 201)


@authenticated
def task_detail(request, cursor, user_id, tenant_id, task_id):
    if request.method != "GET":
        return json_response({"detail": "Method not allowed."}, 405)
    cursor.execute(f"{SELECT} WHERE id = %s AND tenant_id = %s AND user_id = %s", [task_id, tenant_id, user_id])
    row = cursor.fetchone()
    return json_response(as_dict(row)) if row else json_response({"detail": "Not found."}, 404)
