"""The users of `make loadtest`: supervisors and admins browsing one org's dashboards.

Run by bench/loadtest.py (`locust --headless`), never by hand against anything but
the loopback stack it starts. It reads the plan the driver wrote (LOADTEST_PLAN):
the org's host, the session cookies of users the driver logged in once, and the
ids the pages need. Each user keeps one session for the whole run (no logins
under load, so no lockout), and the run stops by itself after its time limit
(--run-time) or its request budget (`max_requests`), whichever comes first.

Pages, weighted roughly as people use them: home, the poll page (unfiltered, by
region, split by region with averages, by reporter group) and the word clouds it
loads, a poll date's tabs (dates, summary, participation by group and by region,
responses), participation, contacts, and now and then a CSV export. An export is
timed to its first byte under its own name (what a user waits for before the
download starts; rows then stream, and `make bench` holds their cost to Postgres'
own COPY), and the whole download under another.
"""

import itertools
import json
import os
import random
import time
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
SESSIONS = itertools.cycle(PLAN["sessions"])
STOPPING = []


@events.request.add_listener
def stop_at_budget(**kwargs) -> None:
    runner = DashboardUser.environment_runner
    if runner is None or STOPPING:
        return
    if runner.stats.total.num_requests >= PLAN["max_requests"]:
        STOPPING.append(True)
        gevent.spawn(runner.quit)  # not from inside the user that is sending


class DashboardUser(HttpUser):
    wait_time = between(1, 5)
    environment_runner = None

    def on_start(self) -> None:
        DashboardUser.environment_runner = self.environment.runner
        session = next(SESSIONS)
        self.role = session["role"]
        self.client.verify = PLAN["certificate"]
        self.client.headers["Host"] = PLAN["host"]
        # The cookie goes as a header: whatever the server sets, the session stays.
        self.client.headers["Cookie"] = f"sessionid={session['sessionid']}"
        self.regions = PLAN["regions"][self.role]
        self.rng = random.Random(session["sessionid"])

    def page(self, path: str, name: str) -> None:
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

    def pollrun(self) -> int:
        return self.rng.choice(PLAN["pollruns"])

    @task(4)
    def home(self) -> None:
        self.page("/", "home")

    @task(3)
    def poll(self) -> None:
        self.page(f"/poll/read/{PLAN['poll']}/", "poll")

    @task(2)
    def poll_by_region(self) -> None:
        region = self.rng.choice(self.regions)
        self.page(f"/poll/read/{PLAN['poll']}/?region={region}", "poll, region filter")

    @task(2)
    def poll_split(self) -> None:
        self.page(f"/poll/read/{PLAN['poll']}/?numeric=average&split=1", "poll, split averages")

    @task(2)
    def poll_by_group(self) -> None:
        group = self.rng.choice(PLAN["groups"])
        self.page(f"/poll/read/{PLAN['poll']}/?group={group}", "poll, group filter")

    @task(3)
    def poll_words(self) -> None:
        self.page(f"/poll/words/{PLAN['poll']}/", "poll word clouds")

    @task(2)
    def dates(self) -> None:
        self.page(f"/pollrun/by_poll/{PLAN['poll']}/", "poll dates")

    @task(4)
    def date_summary(self) -> None:
        self.page(f"/pollrun/read/{self.pollrun()}/", "date summary")

    @task(2)
    def date_participation(self) -> None:
        group_by = self.rng.choice(["group", "region"])
        path = f"/pollrun/participation/{self.pollrun()}/?group-by={group_by}"
        self.page(path, "date participation")

    @task(3)
    def date_responses(self) -> None:
        self.page(f"/response/by_pollrun/{self.pollrun()}/", "date responses")

    @task(2)
    def participation(self) -> None:
        self.page(f"/participation/?poll={PLAN['poll']}", "participation")

    @task(2)
    def contacts(self) -> None:
        self.page("/contact/", "contacts")

    @task(1)
    def export(self) -> None:
        """A poll date's responses as CSV."""
        if not PLAN["exports"]:
            return
        path = f"/response/by_pollrun/{self.pollrun()}/?_format=csv"
        began = time.perf_counter()
        size = 0
        with self.client.get(
            path, name="CSV export, first byte", stream=True, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")
                return
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
        self.environment.events.request.fire(
            request_type="GET",
            name="CSV export, whole file",
            response_time=(time.perf_counter() - began) * 1000,
            response_length=size,
            exception=None,
            context={},
        )
