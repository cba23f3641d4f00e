"""The finish workflow (fixtures/finish.arazzo.yml) deployed in a local engine, with the pets handler and an
EventBridge bus whose rule delivers every event to a receiver state machine (the engine's EventBridge delivers to
state machine and Lambda targets), so a test can read what the machine announced; shared by the x-onEnd and
x-forEach engine tests."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3

from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTIONS = FIXTURES / "functions"
RECEIVER = {"QueryLanguage": "JSONata", "StartAt": "Received",
            "States": {"Received": {"Type": "Pass", "Output": "{% $states.input %}", "End": True}}}
FUNCTION_KEYS = ("CreatePetFunctionArn", "GetPetFunctionArn", "ReleasePetFunctionArn")


class Finish:
    """The finish workflow deployed in an engine, with a bus whose rule delivers every event to a receiver."""

    def __init__(self, engine: LocalEngine, bus: str = "pets"):
        self.engine = engine
        self.cloudwatch = boto3.client("cloudwatch", region_name=engine.region)
        self.receiver = engine.create_state_machine(RECEIVER, name="pet-event-receiver")
        self.received: set[str] = set()
        engine.events.create_event_bus(Name="pets")
        engine.events.put_rule(Name="all-pet-events", EventBusName="pets",
                               EventPattern=json.dumps({"source": ["pets"]}))
        engine.events.put_targets(Rule="all-pet-events", EventBusName="pets",
                                  Targets=[{"Id": "receiver", "Arn": self.receiver}])
        self.machine = ""
        self.machine = self.deploy("finish", bus)

    def deploy(self, name: str, bus: str, source: str = "pets") -> str:
        """The finish workflow as a state machine whose events go to `bus` with `source` (the functions are created
        once)."""
        return self.deploy_workflow("finish.arazzo.yml", "finish", name, {"PetEventBusName": bus}, source)

    def deploy_workflow(self, document_name: str, workflow_id: str, name: str, substitutions: dict,
                        source: str = "pets") -> str:
        """A workflow of a fixture document as a state machine calling the pets functions (created once); the
        x-onEnd announcement (when it has one) puts its event with `source`."""
        document, problems = validate(FIXTURES / document_name)
        assert problems == [], [str(p) for p in problems]
        substitutions, functions = dict(substitutions), {}
        if self.machine:
            substitutions.update({key: self.engine.lambda_.get_function(FunctionName=key[:-3])["Configuration"]
                                  ["FunctionArn"] for key in FUNCTION_KEYS})
        else:
            functions = {key: FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
                         for key in FUNCTION_KEYS}
        definition = lower(document, workflow_id, document_name).to_dict()
        if "Workflow end: announce" in definition["States"]:
            definition["States"]["Workflow end: announce"]["Arguments"]["Entries"][0]["Source"] = source
        return self.engine.create_state_machine(definition, name=name, substitutions=substitutions,
                                                functions=functions)

    def events(self) -> list[dict]:
        """The events the rule delivered since the last call (each started one receiver execution), oldest first."""
        executions = self.engine.sfn.list_executions(stateMachineArn=self.receiver)["executions"]
        fresh = sorted((e for e in executions if e["executionArn"] not in self.received), key=lambda e: e["startDate"])
        self.received.update(e["executionArn"] for e in fresh)
        return [json.loads(self.engine.sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in fresh]

    def ended_count(self, pet: str, outcome: str) -> float:
        """The WatchEnded metric's sum for one pet and outcome (datapoints are stamped on the engine clock)."""
        now = datetime.fromtimestamp(self.engine.clock.now(), timezone.utc)
        points = self.cloudwatch.get_metric_statistics(
            Namespace="Pets", MetricName="WatchEnded", Statistics=["Sum"], Period=3600,
            StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1),
            Dimensions=[{"Name": "Pet", "Value": pet}, {"Name": "Outcome", "Value": outcome}])["Datapoints"]
        return sum(point["Sum"] for point in points)
