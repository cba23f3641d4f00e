"""A local Airbyte that behaves like Airbyte's server: a real HTTP server speaking the jobs and token operations
of Airbyte's public API v1, with the server's rules (read from airbytehq/airbyte-platform) and nothing kinder.

Tests and the demo point the product at it instead of Airbyte Cloud. It answers with bodies that match
openapi/airbyte-openapi.yml, walks each job through a scripted lifecycle, and can misbehave on purpose
(faults) the way real Airbyte deployments do.

Python use::

    from local_tools.emulator import AirbyteEmulator, JobScript, Fault

    with AirbyteEmulator(base_path="/v1", auth="client_credentials", client_id="cid", client_secret="cs") as emu:
        emu.add_connection(conn_id, script=JobScript.polls("pending", ("running", 3), "succeeded", rows=10, bytes=99))
        emu.inject("createJob", Fault.status(500, job_created=True))
        ...  # call emu.base_url
        assert emu.count("createJob") == 1

Modules, one job each: ``scripts`` (how a job's status evolves), ``jobs`` (one job's lifecycle and JobResponse),
``operations`` (createJob/getJob/cancelJob rules), ``listing`` (listJobs), ``auth`` (token endpoint and
credentials), ``faults``, ``problems`` (error bodies, credential echo), ``timefmt`` (Java date-time text),
``server`` (HTTP handler and routing), ``emulator`` (AirbyteEmulator), ``__main__`` (command line).
Each module's docstring names the server behaviour it copies and the source file that decides it.

Lifecycles (a script is shared by every job of its connection):

- ``JobScript.polls("pending", "queued", ("running", 3), "succeeded")``: createJob answers with the first
  status; then every getJob shows the next entry (an entry ``("running", 3)`` is shown for 3 polls) and the last
  entry sticks. listJobs and cancelJob do not advance the script.
- ``JobScript.timed(duration_seconds=3600, final="succeeded")``: the status follows the emulator clock:
  ``pending`` for ``pending_seconds`` (1 s) after creation, ``running`` until ``duration_seconds``, then ``final``.

``rows``/``bytes`` are what a job reports once it has ended; while running it reports a proportional part.

Options of ``AirbyteEmulator(...)``: ``auth`` (client_credentials | bearer | basic | none),
``application_service`` (keycloak | simple | database: how wrong client credentials are answered, 401 | 400 |
500), ``reject_form_token_requests`` (401 to form-encoded token requests, as some versions do),
``echo_credentials`` (every error body carries the request's Authorization value and a token request's
client_secret, every answer carries ``X-Echo-Authorization`` / ``X-Echo-Client-Secret``: for the product's
scrubbing tests), ``clock`` (shared with the engine; a VirtualClock makes hours pass in no time).

Recorded requests (``emu.requests``) carry redacted Authorization headers and token bodies; the emulator itself
never logs.
"""

from __future__ import annotations

from .emulator import AirbyteEmulator
from .faults import Fault
from .jobs import EmulatedConnection, EmulatedJob
from .scripts import JobScript
from .server import RecordedRequest
from .timefmt import format_duration, format_offset_date_time, parse_offset_date_time

__all__ = [
    "AirbyteEmulator",
    "JobScript",
    "Fault",
    "EmulatedJob",
    "EmulatedConnection",
    "RecordedRequest",
    "format_offset_date_time",
    "format_duration",
    "parse_offset_date_time",
]
