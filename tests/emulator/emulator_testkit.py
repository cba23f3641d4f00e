"""Helpers for the emulator tests: a schema checker over openapi/airbyte-openapi.yml (the project's own description
of the API, never the shared reference), a small client, and readers for the server's error shapes."""
from __future__ import annotations

import pathlib

import requests
import yaml
from jsonschema import Draft202012Validator, FormatChecker

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "openapi" / "airbyte-openapi.yml"
JAVA_INSTANT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?)?Z$"


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


class SpecChecker:
    """Validates a live response against the schema the spec declares for (operationId, status code)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.operations = {op["operationId"]: op for item in spec["paths"].values()
                           for method, op in item.items() if method in ("get", "post", "delete")}

    def schema_for(self, operation_id: str, status: int) -> dict:
        response = self.operations[operation_id]["responses"][str(status)]
        if "$ref" in response:
            response = self.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        return response["content"]["application/json"]["schema"]

    def validate_body(self, schema: dict, body) -> None:
        # The component schemas are referenced as "#/components/...": give them a root that holds components.
        root = {**schema, "components": self.spec["components"]}
        Draft202012Validator(root, format_checker=FormatChecker()).validate(body)

    def check(self, operation_id: str, response: requests.Response) -> dict:
        body = response.json()
        self.validate_body(self.schema_for(operation_id, response.status_code), body)
        return body

    def component(self, name: str, body) -> None:
        self.validate_body({"$ref": f"#/components/schemas/{name}"}, body)


class Client:
    """Just enough of an Airbyte client to drive the emulator: fetches a token, then calls the jobs API."""

    def __init__(self, base_url: str, client_id: str = "cid", client_secret: str = "csecret"):
        self.base_url = base_url
        self.client_id, self.client_secret = client_id, client_secret
        self.token: str | None = None

    def fetch_token(self) -> requests.Response:
        response = requests.post(f"{self.base_url}/applications/token", timeout=5, json={
            "client_id": self.client_id, "client_secret": self.client_secret, "grant-type": "client_credentials"})
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def headers(self) -> dict:
        if self.token is None:
            self.fetch_token()
        return {"Authorization": f"Bearer {self.token}"}

    def create_job(self, connection_id: str, job_type: str = "sync", **kwargs) -> requests.Response:
        return requests.post(f"{self.base_url}/jobs", json={"connectionId": connection_id, "jobType": job_type},
                             headers=self.headers(), timeout=kwargs.pop("timeout", 5), **kwargs)

    def get_job(self, job_id, **kwargs) -> requests.Response:
        return requests.get(f"{self.base_url}/jobs/{job_id}", headers=self.headers(),
                            timeout=kwargs.pop("timeout", 5), **kwargs)

    def cancel_job(self, job_id) -> requests.Response:
        return requests.delete(f"{self.base_url}/jobs/{job_id}", headers=self.headers(), timeout=5)

    def post_jobs(self, **kwargs) -> requests.Response:
        """POST /jobs with whatever body the test gives (json=..., data=..., headers=...)."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return requests.post(f"{self.base_url}/jobs", headers=headers, timeout=5, **kwargs)

    def list_jobs(self, **params) -> requests.Response:
        return requests.get(f"{self.base_url}/jobs", params=params, headers=self.headers(), timeout=5)

    def list_connections(self, params=None) -> requests.Response:
        return requests.get(f"{self.base_url}/connections", params=params, headers=self.headers(), timeout=5)


def conversion_failure(response: requests.Response) -> str:
    """The message of Micronaut's 400 JsonError for a value it could not convert (asserting the shape)."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == "Bad Request" and set(body) == {"message", "_links", "_embedded"}
    (error,) = body["_embedded"]["errors"]
    return error["message"]
