"""B11 patient search: the front desk's `patients(search:)` at 10,000 patients.

Patients are stored directly with the app's search keys (as the start-up migration leaves
them). Searches mix a surname prefix, a first name and surname, a run of phone digits and an
email prefix, at 8 concurrent clients on two API processes. The floor is the cheapest store
read that finds one patient: bare PyMongo `find_one` on the unique email index; beside it, the
cheapest GraphQL request (`{ __typename }`) through the same HTTP path. Also measured:
the first search after a registration, which reloads the directory of that process.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

from bson import ObjectId

from app.models import Role, User
from app.models.patient_keys import COUNTERS, DIRECTORY_COUNTER, keys_for
from bench import data
from bench.common import QUICK, Sizes, graphql, http_client, latency_summary, mint_token
from bench.common import run_concurrently as run_all
from bench.servers import Store, api_processes

TARGET_MS = 50.0
CONCURRENCY = 8
FIRST = ["José", "Ana", "Ravi", "Priya", "Élodie", "Mohammed", "Chen", "Olga", "Sara", "Arjun"]
LAST = ["García", "Sharma", "Müller", "Nguyen", "Okafor", "Rossi", "Iyer", "Kowalski", "Haddad"]
SEARCH = """query($s: String!) { patients(search: $s, first: 20) {
  edges { node { id name phone email } } pageInfo { hasNextPage } } }"""
REGISTER = """mutation($input: PatientInput!) { registerPatient(input: $input) { id } }"""


def _patients(count: int, run: str) -> list[data.Doc]:
    chooser = random.Random(11)
    docs = []
    for i in range(count):
        name = f"{chooser.choice(FIRST)} {chooser.choice(LAST)}{i}"
        email = f"b11-{run}-{i}@example.com" if i % 3 else None
        phone = f"+9198{chooser.randrange(10**8):08d}"
        docs.append(
            User(
                name=name,
                email=email,
                phone=phone,
                role=Role.PATIENT,
                search_keys=keys_for(name, email, phone),
            ).model_dump(by_alias=True, exclude={"id"})
        )
    return docs


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    count = 1_000 if sizes is QUICK else 10_000
    requests = 100 if sizes is QUICK else 400
    run_id = uuid.uuid4().hex[:8]
    client, database = await data.open_database(store.uri, f"bench_b11_{run_id}")
    try:
        docs = _patients(count, run_id)
        await data.insert(database, "users", docs, "B11 patients")
        await database[COUNTERS].insert_one({"_id": DIRECTORY_COUNTER, "version": 1})
        sample = docs[:: max(1, count // 50)]
        searches = []
        for doc in sample:
            first, last = doc["name"].split(" ", 1)
            searches += [last[:4], f"{first} {last[:3]}", doc["phone"][5:10]]
            if doc["email"]:
                searches.append(doc["email"][:12])
        emails = [doc["email"] for doc in sample if doc["email"]]
        admin = mint_token(str(ObjectId()), role=Role.ADMIN.value)
        async with api_processes(store.uri, database.name, log_dir) as apis, http_client() as http:
            urls = [api.url for api in apis]

            async def search(i: int) -> tuple[float, int]:
                started = time.perf_counter()
                body = await graphql(
                    http, urls[i % 2], SEARCH, {"s": searches[i % len(searches)]}, admin
                )
                if body.get("errors"):
                    raise RuntimeError(f"patients failed: {body['errors']}")
                return time.perf_counter() - started, len(body["data"]["patients"]["edges"])

            started = time.perf_counter()
            await search(0)
            await search(1)
            first_load_s = time.perf_counter() - started
            timed, _ = await run_all(requests, CONCURRENCY, search)

            async def floor(i: int) -> tuple[float, int]:
                started = time.perf_counter()
                found = await database["users"].find_one({"email": emails[i % len(emails)]})
                return time.perf_counter() - started, int(found is not None)

            floor_timed, _ = await run_all(requests, CONCURRENCY, floor)

            async def bare(i: int) -> tuple[float, int]:
                started = time.perf_counter()
                body = await graphql(http, urls[i % 2], "{ __typename }", None, admin)
                return time.perf_counter() - started, int("data" in body)

            bare_timed, _ = await run_all(requests, CONCURRENCY, bare)
            registered = await graphql(
                http,
                urls[0],
                REGISTER,
                {"input": {"name": "B11 Walk In", "phone": "+91 98111 22233"}},
                admin,
            )
            if registered.get("errors"):
                raise RuntimeError(f"registerPatient failed: {registered['errors']}")
            after_write = []
            for i in range(2):
                seconds, _ = await search(i)
                after_write.append(seconds)
        app = latency_summary([s for s, _ in timed])
        return {
            "patients": count,
            "requests": requests,
            "concurrency": CONCURRENCY,
            "app": app,
            "floor": latency_summary([s for s, _ in floor_timed]),
            "bare_graphql": latency_summary([s for s, _ in bare_timed]),
            "results_per_search": sum(n for _, n in timed) / len(timed),
            "first_searches_s": first_load_s,
            "search_after_registration_ms": [s * 1000 for s in after_write],
            "target_ms": TARGET_MS,
            "met": app["p50_ms"] < TARGET_MS,
        }
    finally:
        await client.close()
