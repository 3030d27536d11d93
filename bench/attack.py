"""The attack load test's driver (run by bench/attack): replays the floods of points 1-3
of the attack report against a running server over loopback, and measures what a normal
user sees meanwhile. Standard library only; every phase is bounded in time.

    python3 bench/attack.py BASE_URL SERVER_PID ADMIN_EMAIL PASSWORD SECONDS

Attackers come from many loopback addresses (127.0.1.x), as a botnet would, so that the
per-address limits do not end the flood at once; the normal user is 127.0.0.1.
Prints one JSON object of results.
"""

import http.client
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

BASE, SERVER_PID, ADMIN_EMAIL, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
SECONDS = float(sys.argv[5])
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port


def attacker_address(i):
    return f"127.0.1.{1 + i % 250}"


class Client:
    """One keep-alive HTTP connection from a given source address."""

    def __init__(self, source="127.0.0.1", token=None, timeout=35):
        self.source, self.token, self.timeout = source, token, timeout
        self.connection = None

    def post(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}})
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(
                        HOST, PORT, timeout=self.timeout, source_address=(self.source, 0)
                    )
                self.connection.request("POST", "/graphql", body, headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, json.loads(data) if data else {}
            except (OSError, http.client.HTTPException) as error:
                self.close()
                if attempt == 1:
                    return 0, {"client error": f"{type(error).__name__}: {error}"}
        return 0, {}

    def get(self, path):
        try:
            connection = http.client.HTTPConnection(HOST, PORT, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            return response.status
        except (OSError, http.client.HTTPException):
            return 0

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies, errors, first_error=None):
    return {
        "n": len(latencies),
        "errors": errors,
        "first_error": first_error,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
    }


def memory_mib(field):
    """The server's VmRSS (now) or VmHWM (peak), MiB."""
    with open(f"/proc/{SERVER_PID}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def login(email):
    status, body = Client().post(
        "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
        {"e": email, "p": PASSWORD},
    )
    return body["data"]["login"]["accessToken"]


def setup():
    """An editor of two benchmark organisations, and their ids."""
    admin = Client(token=login(ADMIN_EMAIL))
    _, body = admin.post('{ a: organisation(slug: "bench-org-0001") { id } b: organisation(slug: "bench-org-0002") { id } }')
    org_a, org_b = body["data"]["a"]["id"], body["data"]["b"]["id"]
    email = f"attack-editor-{random.randrange(10**9)}@example.org"
    _, body = admin.post(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        {"i": {"email": email, "name": "Editor", "password": PASSWORD}},
    )
    user = body["data"]["createUser"]["id"]
    for org in (org_a, org_b):
        admin.post(
            "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: EDITOR }) { role } }",
            {"u": user, "o": org},
        )
    return Client(token=login(email)), [org_a, org_b]


WRITE = 'mutation($o: [ID!]!) { createDialogue(input: { title: "Möte under last", kind: MEETING, status: HELD, heldOn: "2026-11-20", summary: "Attack test", visibility: PUBLIC, organisationIds: $o }) { id } }'
LOOKUP = '{ organisation(slug: "bench-org-0042") { name city website } }'


def measure(stop, client, query, variables, every, out, check):
    """A normal user: one request every `every` seconds until `stop` is set."""
    latencies, errors, first_error = [], 0, None
    while not stop.is_set():
        started = time.perf_counter()
        status, body = client.post(query, variables)
        took = time.perf_counter() - started
        if status == 200 and "errors" not in body and check(body):
            latencies.append(took)
        else:
            errors += 1
            first_error = first_error or f"HTTP {status}: {json.dumps(body)[:200]}"
        time.sleep(max(0.0, every - took))
    out.update(summary(latencies, errors, first_error))


def run_phase(name, attackers, editor, orgs):
    """Runs `attackers` (functions of (index, stop, tally)) while an editor writes and a
    visitor looks up an organisation; returns what each saw and the attack's tally."""
    stop = threading.Event()
    writes, lookups, tally = {}, {}, {"requests": 0, "statuses": {}, "codes": {}}
    lock = threading.Lock()

    def count(status, body):
        with lock:
            tally["requests"] += 1
            tally["statuses"][str(status)] = tally["statuses"].get(str(status), 0) + 1
            for error in body.get("errors", [])[:1]:
                code = error.get("extensions", {}).get("code", "?")
                tally["codes"][code] = tally["codes"].get(code, 0) + 1

    threads = [threading.Thread(target=attack, args=(i, stop, count), daemon=True) for i, attack in enumerate(attackers)]
    for thread in threads:
        thread.start()
    time.sleep(1.0 if attackers else 0)  # let the flood build up
    rss_before = memory_mib("VmRSS")
    watchers = [
        threading.Thread(target=measure, args=(stop, editor, WRITE, {"o": orgs}, 0.05, writes, lambda b: b["data"]["createDialogue"]["id"])),
        threading.Thread(target=measure, args=(stop, Client(), LOOKUP, {}, 0.02, lookups, lambda b: b["data"]["organisation"]["name"])),
    ]
    for watcher in watchers:
        watcher.start()
    time.sleep(SECONDS)
    stop.set()
    for watcher in watchers:
        watcher.join()
    for thread in threads:
        thread.join(timeout=40)
    return {"phase": name, "editor_write": writes, "lookup": lookups, "attack": tally, "rss_mib_during": rss_before, "peak_rss_mib": memory_mib("VmHWM")}


def login_flooder(index, stop, count):
    """Point 1: anonymous sign-ins with random emails and passwords, in a loop."""
    client = Client(attacker_address(index))
    single = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }"
    aliased = "mutation {" + " ".join(
        f'l{i}: login(input: {{ email: "x{i}@spray.example", password: "wrong password {i}" }}) {{ accessToken }}' for i in range(30)
    ) + "}"
    n = 0
    while not stop.is_set():
        n += 1
        # One in ten documents is the 30-login one of the report; the rest are single sign-ins
        # from addresses that rotate, to keep the password hasher as busy as possible.
        if n % 10 == 0:
            status, body = client.post(aliased)
        else:
            client.close()
            client.source = attacker_address(random.randrange(250))
            status, body = client.post(single, {"e": f"u{random.randrange(10**9)}@example.org", "p": f"guess {random.random()}"})
        count(status, body)


COUNT_ATTACK = "{" + " ".join(
    f'c{i}: dialogues(first: 0, filter: {{ text: "zq0x{i}" }}) {{ totalCount }}' for i in range(30)
) + "}"
# The most a single document may still ask for under the default limit of 25,000 points.
COUNT_ALLOWED = "{" + " ".join(
    f'c{i}: dialogues(first: 0, filter: {{ text: "zq0x{i}" }}) {{ totalCount }}' for i in range(11)
) + "}"


def count_attacker(index, stop, count):
    """Point 2: text-filtered counts, the report's document and the largest one allowed."""
    client = Client(attacker_address(index))
    n = 0
    while not stop.is_set():
        n += 1
        status, body = client.post(COUNT_ATTACK if n % 2 else COUNT_ALLOWED)
        count(status, body)


def slow_client(index, stop, count):
    """Point 3: connections that never finish their header, or their body."""
    held = []
    while not stop.is_set():
        try:
            sock = socket.create_connection((HOST, PORT), timeout=5, source_address=(attacker_address(index), 0))
            if len(held) % 10 == 0:
                sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            else:
                sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            held.append(sock)
            count(0, {})
        except OSError:
            time.sleep(0.01)
        if len(held) >= 400:
            time.sleep(0.05)
            # Keep the oldest dribbling a byte, as a slowloris does.
            for sock in held[:50]:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass
            held = [s for s in held if s.fileno() != -1][-400:]
    for sock in held:
        sock.close()


def main():
    editor, orgs = setup()
    if len(sys.argv) > 6:  # one phase only, for a closer look
        phases = {"slow": [slow_client] * 10, "login": [login_flooder] * 30, "count": [count_attacker] * 4}
        print(json.dumps([run_phase(sys.argv[6], phases[sys.argv[6]], editor, orgs)]))
        return
    results = [run_phase("quiet", [], editor, orgs)]
    results.append(run_phase("login flood (30 clients)", [login_flooder] * 30, editor, orgs))
    results.append(run_phase("count attack (4 clients)", [count_attacker] * 4, editor, orgs))
    results.append(run_phase("slow clients (10 x 400 connections)", [slow_client] * 10, editor, orgs))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
