"""The Task endpoints the way FastAPI's documentation builds them: typed dependencies, ORM models, response models.

Responses are serialized by pydantic in Rust from the declared return types (FastAPI >= 0.130), which is
faster than any custom JSON response class.
"""
import os
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.peers.tokens import InvalidToken, access_token_claims, check_user

PAGE_SIZE = 50
# A fixed pool as large as Tessera's (20 per process): overflow connections would be opened and closed per
# request once 32 requests per worker are in flight, and asyncpg's connection setup would dominate.
engine = create_async_engine(os.environ["DATABASE_URL"].replace("postgres://", "postgresql+asyncpg://", 1),
                             pool_size=20, max_overflow=0)
Session = async_sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class User(Base):
    __tablename__ = "accounts_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    password: Mapped[str] = mapped_column(String(128))
    last_login: Mapped[datetime | None]
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool]
    is_staff: Mapped[bool]
    is_superuser: Mapped[bool]
    date_joined: Mapped[datetime]


class Task(Base):
    __tablename__ = "tasks_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int]
    user_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str]
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    status: Literal["pending", "in_progress", "completed", "cancelled"] = "pending"
    priority: Literal["low", "medium", "high", "critical"] = "medium"
    due_date: date | None = None


class TaskOut(TaskIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


class TaskPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[TaskOut]


async def database() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


DatabaseDep = Annotated[AsyncSession, Depends(database)]


async def current_user(session: DatabaseDep, authorization: Annotated[str | None, Header()] = None) -> User:
    try:
        claims = access_token_claims(authorization)
        user = await session.get(User, int(claims["user_id"]))
        if user is None:
            raise InvalidToken("User not found.")
        check_user(claims, is_active=user.is_active, password=user.password)
    except InvalidToken as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    return user


UserDep = Annotated[User, Depends(current_user)]
TenantDep = Annotated[int, Header(alias="X-Tenant-ID")]
app = FastAPI(title="Tasks (FastAPI peer)")


@app.get("/api/v1/tasks/")
async def task_list(request: Request, session: DatabaseDep, user: UserDep, tenant_id: TenantDep,
                    page: Annotated[int, Query(ge=1)] = 1) -> TaskPage:
    mine = (Task.tenant_id == tenant_id, Task.user_id == user.id)
    count = await session.scalar(select(func.count()).select_from(Task).where(*mine))
    tasks = await session.scalars(select(Task).where(*mine).order_by(Task.created_at.desc(), Task.id)
                                  .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    return TaskPage(
        count=count,
        next=str(request.url.include_query_params(page=page + 1)) if page * PAGE_SIZE < count else None,
        previous=str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
        results=[TaskOut.model_validate(task) for task in tasks],
    )


@app.get("/api/v1/tasks/{task_id}/")
async def task_detail(task_id: int, session: DatabaseDep, user: UserDep, tenant_id: TenantDep) -> TaskOut:
    task = await session.scalar(select(Task).where(Task.id == task_id, Task.tenant_id == tenant_id,
                                                   Task.user_id == user.id))
    if task is None:
        raise HTTPException(404, "Not found.")
    return task


@app.post("/api/v1/tasks/", status_code=201)
async def task_create(body: TaskIn, session: DatabaseDep, user: UserDep, tenant_id: TenantDep) -> TaskOut:
    task = Task(**body.model_dump(), tenant_id=tenant_id, user_id=user.id)
    session.add(task)
    await session.commit()
    return task
