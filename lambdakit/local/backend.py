"""In-memory AWS for local runs and tests: moto, and the resources of a plan created in it.

Resources are created under their declared names, as the runtime's fallback
expects, and the `LK_<NAME>` variables are set to the physical names (queue
URLs for queues), as the template sets them in Lambda, so handles take the
same code path locally as deployed. The backend also resolves the `Fn::Sub`
strings of the derived policies to the concrete ARNs of what it created.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from lambdakit.core.names import dead_letter_queue_name, queue_name
from lambdakit.declare.resources import Queue, Resource
from lambdakit.derive.plan import KEEP_FAILED_SECONDS, Plan, QueuePlan, StreamPlan, TablePlan
from lambdakit.local.pools import DEMO_PASSWORD, UserPools

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: The credentials local runs use; IAM-auth routes accept SigV4 signatures made with them.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"

_CLEARED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_KINESIS",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
)
_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class Backend:
    """moto, started once; resources are added as apps and fixtures declare them (idempotently)."""

    def __init__(self, region: str = REGION, account: str = ACCOUNT) -> None:
        self.region = region
        self.account = account
        self.credentials = {ACCESS_KEY: SECRET_KEY}
        self.refs: dict[str, str] = {
            "AWS::Partition": "aws",
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
        }
        self.owners: dict[str, Resource] = {}  # ARN -> the declared resource
        self.labels: dict[int, str] = {}
        self.pools = UserPools(region, account)
        self._tables: dict[str, tuple[Any, ...]] = {}  # created here, by name: their key shape
        self._streams: set[str] = set()
        self._urls: dict[str, str] = {}  # queues created here, by name
        self._pointed: dict[str, Resource] = {}  # LK_<NAME> variable -> the resource it points at
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> Backend:
        from moto import mock_aws

        from lambdakit.local import iam_guard
        from lambdakit.runtime import aws

        iam_guard.install()
        for name in _CLEARED:
            self._set_env(name, None)
        for name, value in _ENV.items():
            self._set_env(name, value)
        self._mock = mock_aws(config={"core": {"mock_credentials": False}})
        self._mock.start()
        _fresh_default_session()
        aws.reset()
        return self

    def stop(self) -> None:
        from lambdakit.local import iam_guard
        from lambdakit.runtime import aws

        if self._mock is not None:
            self._mock.stop()
            self._mock = None
            iam_guard.uninstall()
        for name, value in reversed(list(self._saved_env.items())):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        aws.reset()

    def __enter__(self) -> Backend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_env(self, name: str, value: str | None) -> None:
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def client(self, service: str) -> Any:
        from lambdakit.runtime import aws

        return aws.client(service)

    # -- resources ------------------------------------------------------------
    def provision(self, plan: Plan, prefer: bool = False) -> None:
        """Create what the plan holds and is not there yet; set the `LK_<NAME>` variables.

        Two apps imported in one test session may declare a table of the same name with other keys: the first
        one created stays, unless `prefer` (a test client's own app), which recreates it with its own keys."""
        for value_id, variable in plan.app.variables.items():
            self.labels.setdefault(value_id, variable)
        for table in plan.all_tables():
            self._table(table, prefer)
        for queue in plan.all_queues():
            self._queue(queue, prefer)
        for stream in plan.streams:
            self._stream(stream, prefer)
        for fn in plan.functions:
            self.refs[f"{fn.log_group_id}.Arn"] = self.arn("logs", fn.log_group_name) + ":*"
        for pool in plan.app.pools:
            self.pools.declare(pool)

    def arn(self, service: str, name: str) -> str:
        if service == "dynamodb":
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"
        if service == "kinesis":
            return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{name}"
        if service == "logs":
            return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"
        return f"arn:aws:{service}:{self.region}:{self.account}:{name}"

    def _table(self, table: TablePlan, prefer: bool = False) -> None:
        name = table.local_name
        arn = self.arn("dynamodb", name)
        current = self._tables.get(name)
        if current is not None and current != _shape(table):
            if not prefer:
                return
            self.client("dynamodb").delete_table(TableName=name)
            del self._tables[name]
        if name not in self._tables:
            kwargs: dict[str, Any] = {
                "TableName": name,
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": table.key_schema(),
            }
            if table.indexes:
                kwargs["GlobalSecondaryIndexes"] = table.global_secondary_indexes()
            kwargs["AttributeDefinitions"] = table.attribute_definitions()
            ddb = self.client("dynamodb")
            ddb.create_table(**kwargs)
            if table.ttl:
                ddb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"AttributeName": table.ttl, "Enabled": True}
                )
            self._tables[name] = _shape(table)
        self.refs[table.logical_id] = name
        self.refs[f"{table.logical_id}.Arn"] = arn
        if table.declared is not None:
            self.owners[arn] = table.declared
            self._point(table.declared, name, prefer)

    def _create_queue(self, name: str, attributes: dict[str, str]) -> str:
        url: str = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self._urls[name] = url
        return url

    def queue_url_named(self, name: str) -> str:
        """The URL of a queue created here, by physical name (the storage integrations name queues so)."""
        found = self._urls.get(name)
        return found if found is not None else str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def _queue(self, queue: QueuePlan, prefer: bool = False) -> None:
        name = queue.local_name
        if name not in self._urls:
            fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if queue.fifo else {}
            attributes = {
                **fifo,
                "VisibilityTimeout": str(queue.visibility_timeout),
                "MessageRetentionPeriod": str(queue.retention_seconds),
            }
            if queue.dead_letter is not None:
                dead = queue.dead_letter
                self.refs[dead.logical_id] = self._create_queue(
                    dead.local_name, {**fifo, "MessageRetentionPeriod": str(KEEP_FAILED_SECONDS)}
                )
                self.refs[f"{dead.logical_id}.Arn"] = self.arn("sqs", dead.local_name)
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": self.arn("sqs", dead.local_name), "maxReceiveCount": queue.max_receive}
                )
            self.refs[queue.logical_id] = self._create_queue(name, attributes)
            self.refs[f"{queue.logical_id}.Arn"] = self.arn("sqs", name)
            self.refs[f"{queue.logical_id}.QueueName"] = name
            if queue.declared is not None:
                self.owners[self.arn("sqs", name)] = queue.declared
        if queue.declared is not None:
            self._point(queue.declared, self._urls[name], prefer)

    def _stream(self, stream: StreamPlan, prefer: bool = False) -> None:
        name = stream.local_name
        if name not in self._streams:
            self.client("kinesis").create_stream(StreamName=name, ShardCount=1)
            self._streams.add(name)
            arn = self.arn("kinesis", name)
            self.refs[stream.logical_id] = name
            self.refs[f"{stream.logical_id}.Arn"] = arn
            self.owners[arn] = stream.declared
        self._point(stream.declared, name, prefer)

    def _point(self, resource: Resource, physical: str, prefer: bool) -> None:
        """Set the `LK_<NAME>` variable that points the handle at what was created. Names that differ only in
        case or separators share a variable: across apps in one test session the first keeps it, unless
        `prefer` (a test client's own app)."""
        owner = self._pointed.get(resource.env)
        if owner is None or owner is resource or prefer:
            self._pointed[resource.env] = resource
            self._set_env(resource.env, physical)

    def queue_url(self, queue: Queue) -> str:
        url = self._urls.get(queue_name(queue.name, queue.fifo))
        if url is None:
            raise KeyError(f"{queue!r} was not created locally; declare it at module level or use it in reads=/writes=")
        return url

    def dlq_url(self, queue: Queue) -> str:
        return self._urls[dead_letter_queue_name(queue.name, queue.fifo)]

    def resource_named(self, name: str) -> Resource:
        for res in self.owners.values():
            if res.name == name:
                return res
        known = ", ".join(sorted({r.name for r in self.owners.values()}))
        raise KeyError(f"no table, queue or stream named {name!r}; this app declares: {known or 'none'}")

    def label(self, res: Resource) -> str:
        """The name a user wrote for the resource (its module variable), for messages."""
        return self.labels.get(id(res), res.name.replace("-", "_"))

    def resolve(self, sub: str) -> str:
        """A policy resource (`Fn::Sub` syntax) as a concrete ARN; unknown references stay unmatched."""
        return re.sub(r"\$\{([^}]+)\}", lambda m: self.refs.get(m.group(1), f"<unresolved {m.group(1)}>"), sub)

    # -- the fixture's helpers ----------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str = DEMO_PASSWORD,
        pool: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """Create a confirmed user with a permanent password (idempotent), in a declared user pool."""
        self.pools.add_user(username, password, pool, attributes)

    def seed(self, data: dict[str, Any]) -> dict[str, int]:
        """Load seed data (`lambdakit.local.seed`); returns how many of each kind were loaded."""
        from lambdakit.local.seed import load

        return load(self, data)


def _shape(table: TablePlan) -> tuple[Any, ...]:
    return table.key, table.sort_key, table.indexes, table.ttl


_LOADER: list[Any] = []


def _fresh_default_session() -> None:
    """A new default boto3 session (new credentials, as moto wants) that reuses one botocore loader, so
    the service models are parsed once per process rather than once per test."""
    import boto3
    from botocore.loaders import create_loader

    if not _LOADER:
        _LOADER.append(create_loader())
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION._session.register_component("data_loader", _LOADER[0])
