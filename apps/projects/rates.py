"""The agent platform's request limits, as its gateway summary gives them, for every one of its resources: each
user or API key may call one resource 60 times a minute and 1000 times an hour, writes 10 a minute, reads 30,
deletes 5 (its verbs add their own: reviews and exports 5, custom events 60)."""

RESOURCE_RATES = ("60/m", "1000/h")
CRUD_RATES = {"create": "10/m", "update": "10/m", "partial_update": "10/m", "list": "30/m", "retrieve": "30/m",
              "destroy": "5/m"}
