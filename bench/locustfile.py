"""A day's mix at a township and its villages, for ``bench/bench_load.py`` (locust, headless, 127.0.0.1).

Village clerks fill, seal and submit forms; the township clerk issues certificates (render + seal); the township
reviewer accepts what arrives (verify + countersign; a 409 when another reviewer got there first is the expected
answer, not an error); staff open documents and check uploaded files (verify); citizens open the public
verification page a QR code leads to. Tokens and sample files come from the JSON file named by
``MINSEAL_LOAD_FIXTURE`` (written by bench_load.py).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

FIXTURE: dict[str, Any] = json.loads(Path(os.environ["MINSEAL_LOAD_FIXTURE"]).read_text("utf-8"))
_CLERKS = itertools.cycle(FIXTURE["village_clerks"])


class _Staff(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    token = ""

    def on_start(self) -> None:
        self.client.headers["authorization"] = f"Bearer {self.token}"


class VillageClerk(_Staff):
    weight = 3

    def on_start(self) -> None:
        self.token = next(_CLERKS)
        super().on_start()

    @task
    def fill_seal_submit(self) -> None:
        r = self.client.post("/api/documents", json={"family": "dibao_application", "data": FIXTURE["form"]},
                             name="create form (render)")
        if r.status_code != 201:
            return
        doc = r.json()["id"]
        sealed = self.client.post(f"/api/documents/{doc}/seal", json={"opinion": "经入户了解，情况属实。"},
                                  name="seal form")
        if sealed.status_code == 200:
            self.client.post(f"/api/documents/{doc}/submit", name="submit")


class TownshipClerk(_Staff):
    weight = 2

    def on_start(self) -> None:
        self.token = FIXTURE["township_clerk"]
        super().on_start()

    @task
    def certificate(self) -> None:
        r = self.client.post("/api/documents", json={"family": "dibao_certificate", "data": FIXTURE["certificate"]},
                             name="create certificate (render)")
        if r.status_code == 201:
            self.client.post(f"/api/documents/{r.json()['id']}/seal", json={}, name="seal certificate")


class TownshipReviewer(_Staff):
    weight = 1

    def on_start(self) -> None:
        self.token = FIXTURE["reviewer"]
        super().on_start()

    @task
    def accept_next(self) -> None:
        inbox = self.client.get("/api/inbox", name="inbox").json()
        waiting = [d["id"] for d in inbox if d["status"] == "submitted"]
        if not waiting:
            return
        with self.client.post(f"/api/documents/{random.choice(waiting)}/accept", data={"opinion": "同意上报。"},
                              name="accept (verify + countersign)", catch_response=True) as r:
            if r.status_code == 409:
                r.success()  # another reviewer took it: the designed answer


class Viewer(_Staff):
    weight = 3

    def on_start(self) -> None:
        self.token = FIXTURE["township_clerk"]
        super().on_start()

    @task(3)
    def view_document(self) -> None:
        self.client.get(f"/api/documents/{random.choice(FIXTURE['documents'])}", name="view document")

    @task(3)
    def public_page(self) -> None:
        """What a citizen's QR scan opens (no sign-in): the certificate's public verification page."""
        self.client.get(f"/v/{random.choice(FIXTURE['public_ids'])}", name="public page (QR)",
                        headers={"authorization": ""})

    @task(1)
    def verify_upload(self) -> None:
        pdf = Path(random.choice(FIXTURE["sealed_files"])).read_bytes()
        self.client.post("/api/verify", files={"file": ("f.pdf", pdf, "application/pdf")}, name="verify upload")
