"""What the benchmark scripts share: a PostgreSQL database of their own."""
from urllib.parse import urlparse


def create_database(database_url: str) -> None:
    """Create the database `database_url` names, when it does not exist yet."""
    import psycopg

    url = urlparse(database_url)
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username, dbname="postgres",
                         autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [url.path[1:]]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{url.path[1:]}"')
