"""Server time of every page on the demo firm: GET over loopback HTTP against a running
`kartei run` on a seeded demo (`kartei init --demo DIR`), logged in as the demo user.

Each page is requested `--rounds` times in turn (after one warm-up request each); the
time is from sending the request to the last byte of the answer (loopback: nearly all of
it is the server's). The pages are the ones staff open: dashboard, card, company card,
tasks, calls, risks, classifications, search, search suggestions, settings.

    python bench/pages.py --base-url http://127.0.0.1:8080           # 50 rounds
    python bench/pages.py --base-url http://127.0.0.1:8080 --quick   # 10 rounds

Prints a table, then one JSON object on its last line (milliseconds).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time

import httpx

PERSON = "56980d12178fada3"  # Andreas Meyer: a customer with a history
COMPANY = "c0b0b57a254cd9ed"  # Autohaus Vogel KG: a company card with its people
PAGES = {
    "dashboard": "/",
    "card": f"/contacts/{PERSON}",
    "company card": f"/contacts/{COMPANY}",
    "tasks": "/tasks?scope=team",
    "calls (7 days)": "/calls?days=7",
    "risks": "/risks",
    "classifications": "/classifications",
    "search": "/search?q=Meyer",
    "suggest": "/search/suggest?q=Mey",
    "settings": "/settings",
}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="kartei-demo")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="10 rounds")
    args = parser.parse_args()
    rounds = 10 if args.quick else args.rounds
    with httpx.Client(base_url=args.base_url.rstrip("/"), timeout=30) as http:
        form = http.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        fields = {"username": args.user, "password": args.password, "next": "/"}
        answer = http.post("/login", data={**fields, "csrf": token[1] if token else ""})
        assert answer.status_code in (200, 303), answer.status_code
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        for path in PAGES.values():
            assert http.get(path).status_code == 200, path  # warm-up
        for _ in range(rounds):
            for name, path in PAGES.items():
                start = time.perf_counter()
                response = http.get(path)
                times[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
    result = {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(quantile(values, 0.99), 1),
            "n": len(values),
        }
        for name, values in times.items()
    }
    for name, r in result.items():
        print(f"{name:18} p50 {r['p50_ms']:7.1f} ms   p99 {r['p99_ms']:7.1f} ms   n={r['n']}")
    print(json.dumps({"pages": result, "rounds": rounds, "base_url": args.base_url}))


if __name__ == "__main__":
    main()
