"""Peer (d), the floor: plain Django views, raw SQL and orjson, no middleware, under granian (WSGI)."""
