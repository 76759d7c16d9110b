-- wrk script for the create runs of `make bench-race`: POST the JSON body bench/race.py passes in BENCH_CREATE_BODY.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_CREATE_BODY")
wrk.headers["Content-Type"] = "application/json"
