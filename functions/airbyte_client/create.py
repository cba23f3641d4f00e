"""createJob without ever starting a second sync, and without ever calling someone else's job ours.

What Airbyte's server does (docs/airbyte-behaviour.md) and what this does about it:
- "Already running" is per connection, whatever the running job's type, and reset/clear requests cancel a running
  sync. So first list the connection's jobs: a job of the requested type that has not ended is adopted
  (attached: someone else's); a job of another type is reported (409 + x-airbyte-sync-active-job-id) so the state
  machine follows it to its end and triggers afterwards. Nothing is POSTed while a job runs.
- A job still queued answers a POST with 200 and THAT job: a 200 whose job was already listed before the POST, or
  started before this attempt (clock skew allowed), is adopted, not ours.
- A 409 state-conflict "Could not fulfill request" means the server stopped waiting for the job id although the
  sync was signalled (the same text answers a sync of an inactive connection): look for the job for a while and
  take it as ours, and only then fail Airbyte.Conflict; any other state-conflict is looked for once.
- After a POST whose outcome is unknown (timeout, reset, 5xx, 429, unreadable body), look for the job created since
  the attempt began before ever POSTing again.
- A Step Functions retry of the state (retryCount > 0) first looks for the job an earlier invocation created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import retry
from .errors import AuthError, Conflict, InvalidRequest, MalformedResponse, Unavailable, Unprocessable
from .jobs import (
    created_at,
    is_sync_already_running,
    is_unknown_outcome_conflict,
    job_id_of,
    newest_active,
    newest_created_since,
    problem_kind,
    problem_message,
)
from .polling import job_history
from .transport import ApiResponse, TransientFault

if TYPE_CHECKING:
    from .client import AirbyteClient

# Kept free after a POST for looking up the job it may have created.
LOOKUP_RESERVE_SECONDS = 15.0


def trigger_one_job(
    client: AirbyteClient, connection_id: str, job_type: str, *, look_for_job_since: float | None = None
) -> ApiResponse:
    """The job (see the module docstring), with what the connection's recent jobs of the type took
    (JOB_HISTORY_HEADER, from the listing made anyway: no extra request) for the predictive polling policy."""
    from .client import JOB_HISTORY_HEADER

    listings: list[list[dict]] = []
    response = _trigger(client, connection_id, job_type, look_for_job_since, listings)
    history = job_history(listings[-1], job_type) if listings else None
    if history is not None:
        response.headers[JOB_HISTORY_HEADER] = history.to_json()
    return response


def _trigger(
    client: AirbyteClient,
    connection_id: str,
    job_type: str,
    look_for_job_since: float | None,
    listings: list[list[dict]],
) -> ApiResponse:
    from .client import ACTIVE_JOB_ID_HEADER, ACTIVE_JOB_TYPE_HEADER, ATTACHED_HEADER, RECOVERED_HEADER

    config, log = client.config, client.log
    budget = client.budget()
    skew = config.clock_skew_seconds
    began = retry.wall_time()

    def adopted(job: dict, *, attached: bool, recovered: bool = False) -> ApiResponse:
        headers = {"content-type": "application/json", ATTACHED_HEADER: attached}
        if recovered:
            headers[RECOVERED_HEADER] = True
        return ApiResponse(200, headers, job)

    def waiting_for(job: dict) -> ApiResponse:
        """Another type's job runs: no POST now (a reset or clear would cancel it, a sync would be refused)."""
        job_id, kind = job_id_of(job), str(job.get("jobType"))
        log.info(
            "A job of another type runs on the connection; the state machine waits for it",
            extra={"active_job_id": job_id, "active_job_type": kind},
        )
        body = {
            "status": 409,
            "title": "try-again-later",
            "detail": f"A {kind} job ({job_id}) is running for connection {connection_id}.",
            "data": {"message": f"A {kind} job is running for: {connection_id}"},
        }
        return ApiResponse(
            409,
            {
                "content-type": "application/json",
                ATTACHED_HEADER: False,
                ACTIVE_JOB_ID_HEADER: job_id,
                ACTIVE_JOB_TYPE_HEADER: kind,
            },
            body,
        )

    def decide_on(jobs: list[dict]) -> ApiResponse | None:
        active = newest_active(jobs)
        if active is None:
            return None
        if active.get("jobType") == job_type:
            log.info("A job of this type already runs; attaching to it", extra={"job_id": job_id_of(active)})
            return adopted(active, attached=True)
        return waiting_for(active)

    listed: list[dict] = []

    def list_jobs() -> list[dict]:
        jobs = client.list_jobs(connection_id, budget=budget)
        listings.append(jobs)
        return jobs

    def created_since(since: float, window_seconds: float = 0.0) -> dict | None:
        """Our job, created at or after ``since``; looked for again (backing off) until ``window_seconds``."""
        nonlocal listed
        waited, wait = 0.0, 2.0
        while True:
            listed = list_jobs()
            found = newest_created_since(listed, job_type, since)
            if found is not None or waited + wait > window_seconds or not budget.allows(wait + 5):
                return found
            retry.sleep(wait)
            waited += wait
            wait = min(wait * 2, 10.0)

    # 1. A retry of this state: the job an earlier invocation created is ours.
    if look_for_job_since is not None:
        earlier = created_since(look_for_job_since - skew)
        if earlier is not None:
            log.info("Adopting the job an earlier attempt created", extra={"job_id": job_id_of(earlier)})
            return adopted(earlier, attached=False, recovered=True)
    else:
        listed = list_jobs()

    # 2. What runs on the connection now (the listing just made).
    decided = decide_on(listed)
    if decided is not None:
        return decided
    known_before = {job_id_of(job) for job in listed}

    # 3. One POST; never a second one for a job that may exist.
    body = {"connectionId": connection_id, "jobType": job_type}
    outcome_unknown = False

    def attempt() -> ApiResponse:
        nonlocal outcome_unknown
        if outcome_unknown:
            ours = created_since(began - skew)
            if ours is not None:
                log.info("The earlier POST did create a job; adopting it", extra={"job_id": job_id_of(ours)})
                return adopted(ours, attached=False, recovered=True)
        try:
            response = client.transport.exchange(
                "createJob",
                "POST",
                "/jobs",
                json=body,
                budget=budget,
                read_timeout=config.create_read_timeout,
                keep=LOOKUP_RESERVE_SECONDS,
            )
        except TransientFault as fault:
            outcome_unknown = outcome_unknown or fault.maybe_done
            raise
        if is_sync_already_running(response.status_code, response.body):
            decided = decide_on(list_jobs())
            if decided is None:
                # It ended between Airbyte's answer and our listing; nothing was created: a new POST is safe.
                raise TransientFault("createJob: HTTP 409 try-again-later but no job runs any more")
            return decided
        if response.status_code == 409 and problem_kind(response.body) == "state-conflict":
            window = config.conflict_lookup_seconds if is_unknown_outcome_conflict(409, response.body) else 0.0
            ours = created_since(began - skew, window)
            if ours is not None:
                log.info(
                    "Airbyte answered 409 state-conflict, but the job exists; adopting it",
                    extra={"job_id": job_id_of(ours)},
                )
                return adopted(ours, attached=False, recovered=True)
        return response

    try:
        response = client.transport.with_retries("createJob", attempt, budget)
    except Unavailable as error:
        if not outcome_unknown:
            raise
        try:
            ours = created_since(began - skew) if budget.allows(5) else None
        except Unavailable:
            ours = None
        if ours is None:
            raise Unavailable(
                f"{error} A job may have been created: a retry of this step looks for it before posting again."
            ) from None
        return adopted(ours, attached=False, recovered=True)
    return classify(response, job_type, connection_id, known_before, began - skew, adopted, waiting_for)


def classify(
    response: ApiResponse,
    job_type: str,
    connection_id: str,
    known_before: set[int | None],
    began: float,
    adopted: Callable[..., ApiResponse],
    waiting_for: Callable[[dict], ApiResponse],
) -> ApiResponse:
    """What an answer of the POST (or an adoption already decided) means for the workflow."""
    from .client import ATTACHED_HEADER

    status = response.status_code or 0
    if ATTACHED_HEADER in response.headers:
        return response  # decided above: adopted, recovered or waiting for another job
    if 200 <= status < 300:
        job = response.body
        job_id = job_id_of(job)
        if job_id is None:
            raise MalformedResponse(
                "Airbyte answered createJob 200 without an integer jobId; the execution stops "
                "here and nothing else was sent (look at the connection's jobs in Airbyte)"
            )
        if job.get("jobType") not in (None, job_type):
            return waiting_for(job)  # a queued job of another type came back: never adopt it as the requested one
        started = created_at(job)
        existed = job_id in known_before or (started is not None and started < began)
        response.headers[ATTACHED_HEADER] = existed
        return response
    message = problem_message(response.body, f"HTTP {status}")
    if status == 409:
        raise Conflict(
            f"Airbyte answered 409 {problem_kind(response.body) or 'conflict'}: {message}. No job of "
            f"connection {connection_id} appeared: the connection may be inactive, or Airbyte could not "
            "start the job."
        )
    if status == 422:
        raise Unprocessable(f"Airbyte cannot run this job (422): {message}")
    if status == 403:
        raise AuthError(
            f"Airbyte answered 403 to createJob for connection {connection_id}: the connection does not "
            f"exist, or these credentials may not use it ({message})"
        )
    if status == 404:
        raise InvalidRequest(f"Airbyte has no connection {connection_id} (404): {message}")
    raise InvalidRequest(f"Airbyte createJob answered {status}: {message}")
