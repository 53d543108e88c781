"""Approving every draft of a run in batches of ten, so that the coordinator sees it advance.

Each POST approves the next batch in its own transaction and answers how far it got: a
failure in one batch leaves the earlier batches approved, and every failed proposal keeps
its French reason until the final report. The job's state (run, drafts in order, how many
are done, the failures) travels in a signed form field (itsdangerous, the app's secret key):
nothing is stored on the server, a forged state is refused, and one left for an hour
expires (the age is read from the app's clock). A page without JavaScript shows a "continue"
button; static/approve-all.js presses it for the coordinator and moves a <progress> bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from guichet.assignment.arbitration import ApprovalReport

#: drafts approved per request: about half a second each on the demo data
BATCH_SIZE = 10
#: a state older than this (since its last batch) is refused
MAX_AGE_SECONDS = 3600
#: statuses of a proposal that reached its GP
SENT_STATUSES = frozenset({"approved", "sent", "accepted", "declined", "expired"})


@dataclass
class Progress:
    """Where an "approve all" job stands."""

    run_id: int
    user_id: int
    #: the drafts to approve, in order (those pending when the coordinator confirmed)
    ids: list[int]
    #: how many of `ids` were handled
    done: int = 0
    #: proposal id -> why it was not approved, in French
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def is_finished(self) -> bool:
        return self.done >= self.total

    def next_batch(self) -> list[int]:
        return self.ids[self.done:self.done + BATCH_SIZE]

    def record(self, batch: list[int], report: ApprovalReport) -> None:
        self.done += len(batch)
        self.failed.update(report.failed)

    def sentence(self) -> str:
        """How far the job got, in French, for the page and for the script."""
        failed = len(self.failed)
        sent = self.done - failed
        text = (f"{self.done} proposition{'s' if self.done > 1 else ''} traitée{'s' if self.done > 1 else ''} "
                f"sur {self.total} : {sent} envoyée{'s' if sent > 1 else ''} au médecin")
        if failed:
            text += f", {failed} non envoyée{'s' if failed > 1 else ''}"
        return text + ("." if self.is_finished else "…")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt="approve-all")


def dump(progress: Progress, *, now: datetime) -> str:
    """The signed state for the next request's form."""
    return str(_serializer().dumps({
        "run": progress.run_id, "user": progress.user_id, "ids": progress.ids, "done": progress.done,
        "failed": [[k, v] for k, v in progress.failed.items()], "at": int(now.timestamp()),
    }))


def load(token: str, *, run_id: int, user_id: int, now: datetime) -> Progress | None:
    """The state sent back by the form, or None when it is forged, expired, or another run's or user's."""
    try:
        data: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("run") != run_id or data.get("user") != user_id:
        return None
    if not 0 <= now.timestamp() - float(data.get("at", 0)) <= MAX_AGE_SECONDS:
        return None
    return Progress(run_id=run_id, user_id=user_id, ids=[int(i) for i in data["ids"]], done=int(data["done"]),
                    failed={int(k): str(v) for k, v in data["failed"]})
