"""The emulator on the command line: runs until killed and prints the base URL as the first stdout line.

::

    python -m local_tools.emulator --port 0 --base-path /api/public/v1 --auth client_credentials \\
        --client-id X --client-secret Y \\
        --connection 6f1c...:pending,running*3,succeeded,rows=1200,bytes=340000 \\
        --connection 0a2b...:timed:3600:succeeded --inactive-connection 9d8e... --running-job 5e6f... \\
        --fault createJob:500:created --fault getJob:429:retry-after=2:times=2 \\
        --fault createJob:slow-create:visible-after=90 --echo-credentials \\
        --connection-name 6f1c...=orders --connection-tags 6f1c...=nightly,finance

- ``--connection UUID:SCRIPT``. SCRIPT is comma separated: statuses, ``status*N`` for N polls, or a first item
  ``timed:SECONDS[:FINAL]``; items ``rows=N``, ``bytes=N``, ``pending=SECONDS`` set numbers.
- ``--connection-name UUID=NAME`` and ``--connection-tags UUID=TAG[,TAG...]``: what listConnections shows of a
  connection given with ``--connection`` or ``--inactive-connection`` (every one is in the default workspace).
- ``--fault OPERATION:KIND[:FLAG...]``. KIND is an HTTP code, ``reset``, ``delay=SECONDS``, ``truncated``,
  ``not-json``, ``status=VALUE`` or ``slow-create``. FLAGS: ``created`` / ``not-created`` (job_created),
  ``retry-after=N``, ``times=N``, ``visible-after=SECONDS`` (slow-create).
- Secrets may come from the environment instead of the command line: AIRBYTE_EMULATOR_CLIENT_SECRET,
  AIRBYTE_EMULATOR_TOKEN, AIRBYTE_EMULATOR_PASSWORD.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .auth import APPLICATION_SERVICES, AUTH_MODES
from .emulator import AirbyteEmulator
from .faults import Fault
from .scripts import JobScript


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_tools.emulator", description="Run the Airbyte emulator until killed."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--base-path", default="/v1")
    parser.add_argument("--auth", choices=AUTH_MODES, default="client_credentials")
    parser.add_argument("--client-id", default="cid")
    parser.add_argument("--client-secret", default=os.environ.get("AIRBYTE_EMULATOR_CLIENT_SECRET", "csecret"))
    parser.add_argument("--token", default=os.environ.get("AIRBYTE_EMULATOR_TOKEN", "static-token"))
    parser.add_argument("--username", default="u")
    parser.add_argument("--password", default=os.environ.get("AIRBYTE_EMULATOR_PASSWORD", "p"))
    parser.add_argument("--token-lifetime", type=int, default=900)
    parser.add_argument(
        "--application-service",
        choices=APPLICATION_SERVICES,
        default="keycloak",
        help="how wrong client credentials are answered: keycloak 401, simple 400, database 500",
    )
    parser.add_argument("--reject-form-token-requests", action="store_true")
    parser.add_argument(
        "--echo-credentials",
        action="store_true",
        help="copy the caller's Authorization value and client_secret into every error answer",
    )
    parser.add_argument("--connection", action="append", default=[], metavar="UUID:SCRIPT")
    parser.add_argument("--inactive-connection", action="append", default=[], metavar="UUID")
    parser.add_argument("--connection-name", action="append", default=[], metavar="UUID=NAME")
    parser.add_argument("--connection-tags", action="append", default=[], metavar="UUID=TAG[,TAG...]")
    parser.add_argument(
        "--running-job",
        action="append",
        default=[],
        metavar="UUID",
        help="a job already running on this connection (createJob then answers 409)",
    )
    parser.add_argument("--fault", action="append", default=[], metavar="OPERATION:KIND[:FLAG...]")
    args = parser.parse_args(argv)

    emu = AirbyteEmulator(
        base_path=args.base_path,
        auth=args.auth,
        client_id=args.client_id,
        client_secret=args.client_secret,
        token=args.token,
        username=args.username,
        password=args.password,
        token_lifetime_seconds=args.token_lifetime,
        host=args.host,
        port=args.port,
        application_service=args.application_service,
        reject_form_token_requests=args.reject_form_token_requests,
        echo_credentials=args.echo_credentials,
    )
    names = dict(_pair(spec, "--connection-name") for spec in args.connection_name)
    tags = {
        key: tuple(value.split(",")) for key, value in (_pair(s, "--connection-tags") for s in args.connection_tags)
    }
    for spec in args.connection:
        connection_id, _, script = spec.partition(":")
        emu.add_connection(
            connection_id,
            script=JobScript.parse(script) if script else None,
            name=names.get(connection_id),
            tags=tags.get(connection_id, ()),
        )
    for connection_id in args.inactive_connection:
        emu.add_connection(connection_id, active=False, name=names.get(connection_id), tags=tags.get(connection_id, ()))
    for connection_id in args.running_job:
        emu.start_running_job(connection_id)
    for spec in args.fault:
        operation, fault, times = Fault.parse(spec)
        emu.inject(operation, fault, times=times)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(emu.start(), flush=True)
    try:
        stopped.wait()
    finally:
        emu.stop()
    return 0


def _pair(spec: str, option: str) -> tuple[str, str]:
    key, sep, value = spec.partition("=")
    if not sep or not key or not value:
        raise SystemExit(f"{option} takes UUID=VALUE, got {spec!r}")
    return key, value


if __name__ == "__main__":
    sys.exit(main())
