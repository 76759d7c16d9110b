"""Peer (c): FastAPI + SQLAlchemy 2 async + asyncpg + pydantic, under uvicorn."""
