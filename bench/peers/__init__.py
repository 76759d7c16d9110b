"""The servers `make bench-race` runs beside Tessera, each written as its own best users write it.

All read and write Tessera's tables (tasks_task, accounts_user) in the benchmark database and accept the
access token Tessera minted (HS256, same secret, same claims): the token's user is looked up, must be active
and must still have the password the token was issued for. Rows are scoped to that user and the tenant id in
X-Tenant-ID. None of them has Tessera's other features (memberships and scopes, rate limits, request ids,
request logs, metrics): the gap is what those features, and the generator, cost.

They run from bench/.venv-race (bench/requirements.txt), never from the product's venv. Each reads
DATABASE_URL and JWT_SIGNING_KEY from the environment.
"""
