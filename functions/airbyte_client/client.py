"""A small Airbyte public API client: getJob, listJobs, a cancel that only cancels our own running job, and
createJob (whose never-two-syncs policy lives in create.py).

Airbyte's server decides some things differently from what its API description suggests
(docs/airbyte-behaviour.md); this client is written to the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from . import auth, retry
from .config import ClientConfig
from .errors import AuthError, InvalidRequest, JobUnreadable, Unavailable
from .jobs import is_terminal
from .transport import ApiResponse, Transport
from .validation import require_connection_id, require_job_id, require_job_type

# What a handler adds to a response, to report what it did on the caller's behalf (docs/handler-contract.md).
# Header parameters with this prefix are the state machine's instructions to a handler, never sent to the API.
INSTRUCTION_PREFIX = "x-airbyte-sync-"
ATTACHED_HEADER = "x-airbyte-sync-attached"  # true: a job someone else started was adopted
RECOVERED_HEADER = "x-airbyte-sync-recovered"  # true: the job an earlier, broken-off attempt created
ACTIVE_JOB_ID_HEADER = "x-airbyte-sync-active-job-id"  # a job of another type runs: wait for it, then trigger
ACTIVE_JOB_TYPE_HEADER = "x-airbyte-sync-active-job-type"
CANCEL_OUTCOME_HEADER = "x-airbyte-sync-cancel-outcome"
# The predictive polling policy (polling.py): createJob's summary of the connection's recent jobs, and getJob's plan.
JOB_HISTORY_HEADER = "x-airbyte-sync-job-history"
NEXT_POLL_HEADER = "x-airbyte-sync-next-poll-seconds"
POLL_PLAN_HEADER = "x-airbyte-sync-poll-plan"

CANCELLED, ALREADY_ENDED, NOT_OURS, UNREADABLE = "cancelled", "alreadyEnded", "notOurs", "unreadable"


class AirbyteClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        credentials: auth.Credentials | None = None,
        session: requests.Session | None = None,
        logger: Any = None,
        lambda_remaining_seconds: Callable[[], float] | None = None,
    ):
        self.config = config
        self.transport = Transport(
            config,
            credentials=credentials,
            session=session,
            logger=logger,
            lambda_remaining_seconds=lambda_remaining_seconds,
        )
        self.log = self.transport.log

    def budget(self, seconds: float | None = None) -> retry.Budget:
        return self.transport.budget(seconds)

    # ------------------------------------------------------------------ operations

    def create_job(
        self, connection_id: object, job_type: object, *, look_for_job_since: float | None = None
    ) -> ApiResponse:
        """Trigger one job, never two; see create.py."""
        from .create import trigger_one_job

        return trigger_one_job(
            self,
            require_connection_id(connection_id),
            require_job_type(job_type),
            look_for_job_since=look_for_job_since,
        )

    def get_job(self, job_id: object, *, budget: retry.Budget | None = None) -> ApiResponse:
        """The job. Today's server answers 403 (not 404) for a job it cannot find in a workspace these credentials
        see: re-read the credentials once, ask again, then say the job can no longer be read."""
        job_id = require_job_id(job_id)
        budget = budget or self.budget()
        response = self.transport.call("getJob", "GET", f"/jobs/{job_id}", budget=budget)
        if response.status_code in (403, 404):
            self.log.info(
                "Airbyte refused to read the job; re-reading the credentials and asking once more",
                extra={"status_code": response.status_code},
            )
            self.transport.refresh_credentials()
            response = self.transport.call("getJob", "GET", f"/jobs/{job_id}", budget=budget)
        if response.status_code in (403, 404):
            raise JobUnreadable(
                f"Airbyte answered {response.status_code} to getJob {job_id} twice: the job can no longer be read "
                "(it was deleted, or these credentials lost access to its workspace)"
            )
        if not 200 <= (response.status_code or 0) < 300:
            raise self.transport.unexpected("getJob", response)
        job = response.body
        if job.get("status") == "succeeded" and job.get("bytesSynced") == 0:
            # Airbyte reports some launch failures as a success that moved nothing.
            self.log.warning("Job succeeded with 0 bytes synced; it may not have run", extra={"job_id": job_id})
        return response

    def list_jobs(self, connection_id: object, *, budget: retry.Budget | None = None) -> list[dict]:
        """The connection's 20 newest jobs of every type, newest first (one page): the one-sync policy must see a
        running job of another type too, and the predictive policy reads the recent ones."""
        params: dict[str, Any] = {
            "connectionId": require_connection_id(connection_id),
            "limit": 20,
            "orderBy": "createdAt|DESC",
        }
        response = self.transport.call("listJobs", "GET", "/jobs", params=params, budget=budget or self.budget())
        if response.status_code == 403:
            raise AuthError(
                f"Airbyte answered 403 to listJobs for connection {params['connectionId']}: the connection "
                "does not exist, or these credentials may not use it"
            )
        if not 200 <= (response.status_code or 0) < 300:
            raise self.transport.unexpected("listJobs", response)
        data = response.body.get("data")
        return [job for job in data if isinstance(job, dict)] if isinstance(data, list) else []

    def cancel_if_ours(self, job_id: object, *, connection_id: object, attached: object) -> ApiResponse:
        """Cancel the job only when this execution created it and it still runs.

        DELETE /jobs/{id} cancels the connection's CURRENT job, whichever that is, and answers 200 on a job that
        already ended (then cancelling another running job of the connection). So: never for a job we adopted
        (``attached`` must be exactly False), read the job first, check it is the connection's, and send DELETE
        only while it has not ended. The outcome is in the CANCEL_OUTCOME_HEADER.
        """
        job_id = require_job_id(job_id)
        connection_id = require_connection_id(connection_id)
        if attached is not False:
            self.log.info("Not cancelling a job this execution did not start", extra={"attached": attached})
            return _outcome(NOT_OURS, None)
        budget = self.budget()
        try:
            current = self.get_job(job_id, budget=budget)
        except JobUnreadable:
            return _outcome(UNREADABLE, None)
        job = current.body
        if job.get("connectionId") != connection_id:
            self.log.warning("The job belongs to another connection; not cancelling it")
            return _outcome(NOT_OURS, current)
        if is_terminal(job):
            return _outcome(ALREADY_ENDED, current)
        response = self.transport.call("cancelJob", "DELETE", f"/jobs/{job_id}", budget=budget)
        if response.status_code in (403, 404):
            return _outcome(UNREADABLE, response)
        if response.status_code == 409:
            # Only internal failures answer 409 ("Failed to cancel"): the job may still run.
            raise Unavailable(f"Airbyte could not cancel job {job_id} (409)")
        if not 200 <= (response.status_code or 0) < 300:
            raise self.transport.unexpected("cancelJob", response)
        return _outcome(CANCELLED, response)


def _outcome(outcome: str, response: ApiResponse | None) -> ApiResponse:
    if response is None:
        return ApiResponse(None, {CANCEL_OUTCOME_HEADER: outcome}, None)
    return ApiResponse(response.status_code, {**response.headers, CANCEL_OUTCOME_HEADER: outcome}, response.body)


__all__ = [
    "AirbyteClient",
    "ApiResponse",
    "ClientConfig",
    "InvalidRequest",
    "ATTACHED_HEADER",
    "RECOVERED_HEADER",
    "ACTIVE_JOB_ID_HEADER",
    "ACTIVE_JOB_TYPE_HEADER",
    "CANCEL_OUTCOME_HEADER",
    "JOB_HISTORY_HEADER",
    "NEXT_POLL_HEADER",
    "POLL_PLAN_HEADER",
]
