#!/usr/bin/env python3
"""Load and checks for bench/soak.sh (Python 3 standard library only).

  soak_client.py load BASE SECONDS CLIENTS STATE_DIR
      POSTs a mix of demo responses for SECONDS with CLIENTS connections, each with a new
      submission id; the ones whose request failed (the server was killed) are retried first
      on the next cycle, with the same submission id and body. Every 201 is appended to
      STATE_DIR/acks.jsonl as {"submission_id", "id", "tasks": [...], "webhooks": [...]}.

  soak_client.py verify BASE TOKEN STATE_DIR
      Reads every stored response, task and delivery through the API and checks that every
      acknowledged response is stored exactly once (one stored response per submission id,
      with the acknowledged id) and that every follow-up it reported exists. Prints one line
      of figures; exits 1 on any loss or duplicate.

  soak_client.py verify-export EXPORT_JSONL STATE_DIR
      The same check on `chorus export --format jsonl` of the stopped server.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse
import uuid

SITE = "demo-clinic"

# The mix: a patient who tried, failed and asked for a call back (a task and a help-desk
# webhook, see sites/demo-clinic/rules/tests/enrollment_followup.toml), a provider (a task
# from the demo rules), and a patient who never tried (tags only).
MIX = [
    (0.5, "patient-enrollment", {"aware": "yes", "tried": "yes", "enrolled": "no",
                                 "contact_ok": "yes", "contact_phone": "555-0100"}),
    (0.25, "provider-enrollment", {"role": "physician", "offer_to": "some",
                                   "when_best": "check_out", "who_should": "nurse_ma",
                                   "help_available": "no"}),
    (0.25, "patient-enrollment", {"aware": "no", "tried": "no", "why_not": ["didnt_know"],
                                  "contact_ok": "no"}),
]


def pick():
    r = random.random()
    for share, survey, answers in MIX:
        if r < share:
            return survey, answers
        r -= share
    return MIX[-1][1], MIX[-1][2]


def connection(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=15)


def load(base, seconds, clients, state):
    pending_path = os.path.join(state, "pending.jsonl")
    retry = []
    if os.path.exists(pending_path):
        with open(pending_path) as f:
            retry = [json.loads(line) for line in f if line.strip()]
    lock = threading.Lock()
    acks = open(os.path.join(state, "acks.jsonl"), "a")
    failed = []
    counts = {"acked": 0, "replayed": 0, "failed": 0, "refused": 0}
    deadline = time.monotonic() + seconds

    def next_job():
        with lock:
            if retry:
                return retry.pop()
        survey, answers = pick()
        return {"survey": survey, "body": {"answers": answers,
                                           "submission_id": str(uuid.uuid4())}}

    def more():
        # Retries of the last cycle go first, even past the deadline (a 0-second run drains
        # them).
        with lock:
            return time.monotonic() < deadline or bool(retry)

    def worker():
        conn = connection(base)
        while more():
            job = next_job()
            path = f"/api/v1/sites/{SITE}/surveys/{job['survey']}/responses"
            try:
                conn.request("POST", path, json.dumps(job["body"]),
                             {"Content-Type": "application/json"})
                res = conn.getresponse()
                body = res.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = connection(base)
                with lock:
                    failed.append(job)
                    counts["failed"] += 1
                time.sleep(0.05)
                continue
            if res.status != 201:
                with lock:
                    # 503 while shutting down, or anything else: not acknowledged, retried.
                    failed.append(job)
                    counts["refused"] += 1
                continue
            v = json.loads(body)
            ack = {
                "submission_id": job["body"]["submission_id"],
                "id": v["id"],
                "tasks": [f["id"] for f in v["follow_ups"] if f["action"] == "task"],
                "webhooks": [f["id"] for f in v["follow_ups"] if f["action"] == "webhook"],
            }
            with lock:
                acks.write(json.dumps(ack) + "\n")
                counts["acked"] += 1
                if res.getheader("Idempotent-Replayed") == "true":
                    counts["replayed"] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acks.close()
    with open(pending_path, "w") as f:
        for job in failed + retry:
            f.write(json.dumps(job) + "\n")
    print(json.dumps(counts))


def get_json(conn, path, token):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        return res.status, body
    return 200, json.loads(body)


def listing(conn, path, key, token):
    """Every item of a listing, 1000 a page where the endpoint takes `limit`, following
    `next_cursor` where it pages."""
    items, cursor, limit = [], None, "limit=1000"
    while True:
        query = "&".join(q for q in (limit, f"cursor={cursor}" if cursor else "") if q)
        status, page = get_json(conn, path + ("?" + query if query else ""), token)
        if status == 400 and limit and not cursor:
            limit = ""
            continue
        if status != 200:
            sys.exit(f"GET {path} answered {status}: {page[:200]!r}")
        if isinstance(page, list):
            return items + page
        items.extend(page[key])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def read_acks(state):
    path = os.path.join(state, "acks.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def judge(acks, responses, task_ids, webhook_ids):
    by_submission = {}
    for r in responses:
        sid = r.get("submission_id")
        if sid:
            by_submission.setdefault(sid, []).append(r["id"])
    lost = duplicated = wrong_id = missing_tasks = missing_webhooks = 0
    acked_ids = set()
    for a in acks:
        stored = by_submission.get(a["submission_id"], [])
        if not stored:
            lost += 1
        elif len(stored) > 1:
            duplicated += 1
        elif stored[0] != a["id"]:
            wrong_id += 1
        acked_ids.add(a["id"])
        missing_tasks += sum(1 for t in a["tasks"] if t not in task_ids)
        missing_webhooks += sum(1 for w in a["webhooks"] if w not in webhook_ids)
    # A replayed acknowledgement repeats an id; distinct submission ids are what was sent.
    sent = len({a["submission_id"] for a in acks})
    figures = {"acknowledged": sent, "stored": len(responses), "lost": lost,
               "duplicated": duplicated, "wrong_id": wrong_id,
               "missing_tasks": missing_tasks, "missing_webhooks": missing_webhooks,
               "tasks": sum(len(a["tasks"]) for a in acks),
               "webhooks": sum(len(a["webhooks"]) for a in acks)}
    # Two acknowledgements of one submission id must name the same response.
    seen = {}
    for a in acks:
        if seen.setdefault(a["submission_id"], a["id"]) != a["id"]:
            figures["duplicated"] += 1
    print(json.dumps(figures))
    bad = lost + duplicated + wrong_id + missing_tasks + missing_webhooks + (
        figures["duplicated"] - duplicated)
    return 1 if bad else 0


def verify(base, token, state):
    conn = connection(base)
    responses = listing(conn, f"/api/v1/sites/{SITE}/responses", "responses", token)
    tasks = listing(conn, f"/api/v1/sites/{SITE}/follow-ups", "follow_ups", token)
    deliveries = listing(conn, f"/api/v1/sites/{SITE}/deliveries", "deliveries", token)
    task_ids = {t["id"] for t in tasks}
    webhook_ids = {d["follow_up_id"] for d in deliveries}
    return judge(read_acks(state), responses, task_ids, webhook_ids)


def verify_export(export, state):
    with open(export) as f:
        responses = [json.loads(line) for line in f if line.strip()]
    ids = [r["id"] for r in responses]
    if len(ids) != len(set(ids)):
        print("the export repeats a response id")
        return 1
    # The export holds responses with their follow-ups, not the task and delivery trees:
    # check that each acknowledged follow-up id is in its stored response.
    task_ids, webhook_ids = set(), set()
    for r in responses:
        for f in r.get("follow_ups", []):
            (task_ids if f["action"] == "task" else webhook_ids).add(f["id"])
    return judge(read_acks(state), responses, task_ids, webhook_ids)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "load":
        load(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif cmd == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "verify-export":
        sys.exit(verify_export(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
