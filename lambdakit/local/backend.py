"""In-memory AWS for local runs and tests: moto, the declared resources created in it, and seed data.

Resources are created under their declared names, as the runtime's fallback
expects, and the `LK_<NAME>` variables are set to the physical names (queue
URLs for queues), as the template sets them in Lambda, so handles take the
same code path locally as deployed. The backend also resolves the `Fn::Sub`
strings of the derived policies to the concrete ARNs of what it created.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from lambdakit.core.names import dead_letter_queue_name, queue_name
from lambdakit.declare.auth import Cognito
from lambdakit.declare.resources import Queue, Resource, Stream, Table
from lambdakit.derive.cognito import PASSWORD_POLICY
from lambdakit.derive.plan import KEEP_FAILED_SECONDS, Plan, QueuePlan, StreamPlan, TablePlan

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: The credentials local runs use; IAM-auth routes accept SigV4 signatures made with them.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "Demo-Passw0rd!"

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


class SeedError(ValueError):
    """The seed file names something the app does not declare, or holds the wrong shape."""


@dataclass(frozen=True)
class LocalPool:
    """A user pool created in moto for a declared `lk.Cognito`: what verifying its tokens needs."""

    name: str
    pool_id: str
    client_id: str
    issuer: str


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
        self.user_pools: dict[str, Cognito] = {}  # declared; created in moto on first use (moto's are slow to make)
        self._pools: dict[str, LocalPool] = {}
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
            self.user_pools.setdefault(pool.name, pool)

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

    # -- Cognito --------------------------------------------------------------
    def created_pool(self, name: str) -> LocalPool | None:
        """The pool, if it exists in moto yet (no token can have been issued for one that does not)."""
        return self._pools.get(name)

    def _pool(self, pool: Cognito) -> LocalPool:
        found = self._pools.get(pool.name)
        if found is not None:
            return found
        idp = self.client("cognito-idp")
        created = idp.create_user_pool(
            PoolName=pool.name,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": PASSWORD_POLICY},
        )["UserPool"]
        client = idp.create_user_pool_client(
            UserPoolId=created["Id"],
            ClientName=f"{pool.name}-client",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]
        local = LocalPool(
            pool.name,
            created["Id"],
            client["ClientId"],
            f"https://cognito-idp.{self.region}.amazonaws.com/{created['Id']}",
        )
        self._pools[pool.name] = local
        return local

    def pool(self, name: str | None = None) -> LocalPool:
        """A declared user pool (created in moto now if it is not yet); `name` may be omitted when there is one."""
        names = ", ".join(self.user_pools) or "none"
        if name is None:
            if len(self.user_pools) != 1:
                raise KeyError(f"name the user pool: there are {len(self.user_pools)} ({names})")
            name = next(iter(self.user_pools))
        if name not in self.user_pools:
            raise KeyError(f"no user pool {name!r}; the declared ones are: {names}")
        return self._pool(self.user_pools[name])

    def add_user(
        self,
        username: str,
        password: str = DEMO_PASSWORD,
        pool: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None:
        """Create a confirmed user with a permanent password (idempotent)."""
        local = self.pool(pool)
        idp = self.client("cognito-idp")
        attrs = [
            {"Name": k, "Value": v}
            for k, v in {"email": username, "email_verified": "true", **(attributes or {})}.items()
        ]
        with contextlib.suppress(idp.exceptions.UsernameExistsException):
            idp.admin_create_user(
                UserPoolId=local.pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=attrs
            )
        idp.admin_set_user_password(UserPoolId=local.pool_id, Username=username, Password=password, Permanent=True)

    def sign_in(
        self, username: str, password: str, pool: str | None = None, scopes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Cognito's tokens for a user: `IdToken`, `AccessToken` (with `scopes` when asked), `ExpiresIn`."""
        local = self.pool(pool)
        idp = self.client("cognito-idp")
        result: dict[str, Any] = idp.admin_initiate_auth(
            UserPoolId=local.pool_id,
            ClientId=local.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        if scopes:
            result["AccessToken"] = self._scoped_access_token(local, username, scopes)
        return result

    def _scoped_access_token(self, local: LocalPool, username: str, scopes: tuple[str, ...]) -> str:
        """An access token carrying custom scopes, as Cognito's OAuth flows issue; signed by moto's key."""
        import uuid

        from moto.cognitoidp.models import cognitoidp_backends

        user_pool = cognitoidp_backends[self.account][self.region].user_pools[local.pool_id]
        token, _ = user_pool.create_jwt(
            local.client_id, username, "access", extra_data={"scope": " ".join(scopes), "origin_jti": str(uuid.uuid4())}
        )
        return str(token)

    # -- seed data --------------------------------------------------------------
    def seed(self, data: dict[str, Any]) -> dict[str, int]:
        """Load `{"tables": {name: [items]}, "queues": {name: [bodies]}, "streams": {name: [records]},
        "users": [{"username", "password", "pool"?}]}`; returns how many of each were loaded."""
        if not isinstance(data, dict):
            raise SeedError("the seed is a JSON object with any of: tables, queues, streams, users")
        unknown = set(data) - {"tables", "queues", "streams", "users"}
        if unknown:
            raise SeedError(f"unknown seed section(s) {', '.join(sorted(unknown))}; use tables, queues, streams, users")
        counts = {"items": 0, "messages": 0, "records": 0, "users": 0}
        for name, items in (data.get("tables") or {}).items():
            table = self._seed_target(name, Table)
            ddb = self.client("dynamodb")
            from boto3.dynamodb.types import TypeSerializer

            serializer = TypeSerializer()
            for item in _as_list(name, items):
                plain = json.loads(json.dumps(item), parse_float=Decimal)
                ddb.put_item(TableName=table.name, Item={k: serializer.serialize(v) for k, v in plain.items()})
                counts["items"] += 1
        for name, bodies in (data.get("queues") or {}).items():
            queue = self._seed_target(name, Queue)
            for body in _as_list(name, bodies):
                kwargs: dict[str, Any] = {"QueueUrl": self.queue_url(queue), "MessageBody": _text(body)}
                if queue.fifo:
                    kwargs["MessageGroupId"] = "seed"
                self.client("sqs").send_message(**kwargs)
                counts["messages"] += 1
        for name, records in (data.get("streams") or {}).items():
            stream = self._seed_target(name, Stream)
            for i, record in enumerate(_as_list(name, records)):
                key = str(record.get("partition_key", i)) if isinstance(record, dict) and "data" in record else str(i)
                value = record["data"] if isinstance(record, dict) and "data" in record else record
                self.client("kinesis").put_record(StreamName=stream.name, Data=_text(value).encode(), PartitionKey=key)
                counts["records"] += 1
        for user in data.get("users") or []:
            if not isinstance(user, dict) or "username" not in user:
                raise SeedError(f'a seed user is {{"username": ..., "password": ..., "pool": ...}}, not {user!r}')
            self.add_user(
                user["username"], user.get("password", DEMO_PASSWORD), user.get("pool"), user.get("attributes")
            )
            counts["users"] += 1
        return counts

    def seed_file(self, path: str | Path) -> dict[str, int]:
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise SeedError(f"{path}: not valid JSON: {exc}") from None
        try:
            return self.seed(data)
        except SeedError as exc:
            raise SeedError(f"{path}: {exc}") from None

    def _seed_target(self, name: str, kind: type[Resource]) -> Any:
        for res in self.owners.values():
            if res.name == name and isinstance(res, kind):
                return res
        known = sorted(r.name for r in self.owners.values() if isinstance(r, kind))
        raise SeedError(f"no {kind.kind} named {name!r}; the app declares: {', '.join(known) or 'none'}")


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


def _as_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise SeedError(f"{name}: expected a list, got {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
