"""`lambdakit deploy` end to end against moto's server on 127.0.0.1: package, upload, change set,
execute, outputs; a second deploy whose review names the IAM change; a failing first create
(ROLLBACK_COMPLETE) and the deploy after it; diff; destroy keeping the table.

The app has what moto's CloudFormation can create (tables, queues, streams, roles, functions,
event source mappings) and no HTTP route: API Gateway bodies, Cognito and CloudFront are covered
by the template tests instead (docs/deploy.md). See tests/deploy_moto.py for what moto's change
sets lack and how the fixture completes them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdakit.deploy import DeployError
from tests.apps import write_package
from tests.deploy_moto import moto_server

REGION = "eu-west-1"
STACK = "shopev-dev"

APP = """
import lambdakit as lk

service = lk.Service("shopev")
orders = lk.Table("orders", key="order_id")
audit = lk.Queue("audit")
clicks = lk.Stream("clicks")


@lk.consume(audit, writes=[orders])
def log_audit(message: dict) -> None:
    orders.put({"order_id": message["id"]})


@lk.consume(clicks{writes})
def count_click(record: dict) -> None:
    pass
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    import boto3

    with moto_server(REGION):
        yield boto3.Session(region_name=REGION)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("apps")


def _app(root: Path, writes: str = "") -> Any:
    from lambdakit.discovery import discover

    return discover(write_package(root, {"__init__.py": APP.replace("{writes}", writes)}))


class Console:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _deploy(
    app: Any, out: Path, built: Any = None, execute: bool = True, console: Console | None = None
) -> tuple[dict[str, Any], Console]:
    from lambdakit.deploy.orchestrate import deploy

    console = console or Console()
    outputs = deploy(
        app, "dev", out=out, confirm=lambda question: True, echo=console, poll=0.01, built=built, execute=execute
    )
    return outputs, console


TAKEN = "shopev-kept-orders"


def _broken(built: Any) -> Any:
    """The package with a table named like one the account already holds (say, kept by a destroyed stage)."""
    template = json.loads(json.dumps(built.template))
    template["Resources"]["LegacyTable"] = {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "RetainExceptOnCreate",
        "DependsOn": ["OrdersTable", "AuditQueue"],  # created after those: the rollback must delete them
        "Properties": {
            "TableName": TAKEN,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        },
    }
    return dataclasses.replace(built, template=template)


@pytest.fixture(scope="module")
def first(aws: Any, root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A failing first create, then the deploy after it: what each printed."""
    from lambdakit.packaging import package

    app = _app(root)
    out = tmp_path_factory.mktemp("out")
    built = package(app, out)
    aws.client("dynamodb").create_table(
        TableName=TAKEN,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    failing = Console()
    with pytest.raises(DeployError) as failed:
        _deploy(app, out, _broken(built), console=failing)
    status = aws.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
    left = set(aws.client("dynamodb").list_tables()["TableNames"])
    outputs, console = _deploy(app, out, built)
    return {
        "app": app,
        "built": built,
        "failure": str(failed.value),
        "failing": failing,
        "status": status,
        "left": left,
        "outputs": outputs,
        "console": console,
    }


def test_a_failing_create_names_the_resource_its_reason_and_the_rollback_state(first: dict[str, Any]) -> None:
    message = first["failure"]
    assert first["status"] == "ROLLBACK_COMPLETE"
    assert "LegacyTable (AWS::DynamoDB::Table) CREATE_FAILED: " in message
    assert f"Table already exists: {TAKEN}" in message
    assert "the stack is now ROLLBACK_COMPLETE" in message and "nothing billed is left" in message


def test_a_failed_first_create_leaves_no_table_of_its_own(first: dict[str, Any]) -> None:
    assert first["left"] == {TAKEN}  # OrdersTable was created, then deleted by the rollback


def test_the_deploy_after_a_failed_create_deletes_the_rolled_back_stack_and_creates_it(first: dict[str, Any]) -> None:
    text = first["console"].text
    assert f"stack {STACK} is ROLLBACK_COMPLETE" in text and "deleting it to create it again" in text
    assert f"stack {STACK} ({REGION}): CREATE" in text


def test_deploy_uploads_the_artifact_to_a_locked_down_bucket(aws: Any, first: dict[str, Any]) -> None:
    from lambdakit.deploy.bucket import bucket_name

    s3 = aws.client("s3")
    name = bucket_name("123456789012", REGION)
    (artifact,) = first["built"].artifacts
    assert s3.head_object(Bucket=name, Key=f"shopev/{artifact.sha256}.zip")["ContentLength"] == artifact.size
    blocked = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(blocked.values())
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's server is plain HTTP: the TLS-only policy, which would lock it out, is left out, saying so
    # (tests/test_deploy_review.py checks it is put on an HTTPS endpoint, as AWS's always are)
    assert "is plain HTTP (an emulator): the TLS-only bucket policy is left out" in first["failing"].text
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]


def test_the_functions_run_the_uploaded_code_and_the_resources_exist(aws: Any, first: dict[str, Any]) -> None:
    (artifact,) = first["built"].artifacts
    digest = base64.b64encode(bytes.fromhex(artifact.sha256)).decode()
    functions = aws.client("lambda").list_functions()["Functions"]
    mine = {f["FunctionName"]: f for f in functions if f["FunctionName"].startswith(STACK)}
    assert len(mine) == 2 and {f["CodeSha256"] for f in mine.values()} == {digest}
    assert {f["Handler"] for f in mine.values()} == {"lambdakit.entry.handler"}
    mappings = aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert {m["EventSourceArn"].split(":")[2] for m in mappings} >= {"sqs", "kinesis"}
    outputs = first["outputs"]["main"]
    assert outputs["OrdersTableName"] in aws.client("dynamodb").list_tables()["TableNames"]
    queues = [url.rsplit("/", 1)[-1] for url in aws.client("sqs").list_queues()["QueueUrls"]]
    assert outputs["AuditQueueUrl"].rsplit("/", 1)[-1] in queues
    text = first["console"].text
    assert f"stack {STACK}: done" in text and f"  OrdersTableName: {outputs['OrdersTableName']}" in text
    assert "CREATE_COMPLETE" in text  # the events, streamed


def test_the_first_review_lists_every_grant(first: dict[str, Any]) -> None:
    text = first["console"].text
    assert "IAM changes:" in text
    assert "function log_audit (LogAuditFunction), role LogAuditRole (new):" in text
    assert "dynamodb:PutItem" in text and "on table Orders" in text


@pytest.fixture(scope="module")
def second(first: dict[str, Any], root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app again, with count_click now writing the orders table (packaged by deploy itself)."""
    from lambdakit.packaging import package

    app = _app(root, ", writes=[orders]")
    out = tmp_path_factory.mktemp("out")
    _, console = _deploy(app, out)
    return {"app": app, "console": console, "built": package(app, out)}


def test_a_second_deploy_reviews_the_iam_change_first(second: dict[str, Any]) -> None:
    text = second["console"].text
    assert f"stack {STACK} ({REGION}): UPDATE" in text
    iam = text.index("IAM changes:")
    assert iam < text.index("resources:")
    assert "function count_click (CountClickFunction), role CountClickRole:" in text
    gained = [line for line in second["console"].lines if line.startswith("    + ")]
    assert gained == [
        "    + dynamodb:BatchWriteItem, dynamodb:ConditionCheckItem, dynamodb:DeleteItem, dynamodb:PutItem, "
        "dynamodb:UpdateItem on table Orders"
    ]
    assert "log_audit" not in text[iam : text.index("resources:")]  # unchanged functions are not listed
    assert "Modify  CountClickRole (AWS::IAM::Role)" in text


def test_diff_after_the_deploy_finds_nothing_to_change(second: dict[str, Any], aws: Any) -> None:
    _, console = _deploy(second["app"], second["built"].out, second["built"], execute=False)
    assert f"stack {STACK} ({REGION}): no changes" in console.text
    cf = aws.client("cloudformation")
    pending = [c for c in cf.list_change_sets(StackName=STACK)["Summaries"] if c["ExecutionStatus"] == "AVAILABLE"]
    assert pending == []


def test_a_template_over_51200_bytes_goes_by_url_from_the_bucket(
    aws: Any, first: dict[str, Any], tmp_path: Path
) -> None:
    from lambdakit.deploy.bucket import bucket_name
    from lambdakit.deploy.orchestrate import MAIN, Deployment, Target, _Package, deploy_stack, open_stage

    app = first["app"]
    settings, session, account, region = open_stage(app, "big")
    template = {
        "Resources": {"NotesQueue": {"Type": "AWS::SQS::Queue", "Metadata": {"notes": "x" * 60_000}}},
        "Outputs": {"NotesQueueUrl": {"Value": {"Ref": "NotesQueue"}}},
    }
    console = Console()
    run = Deployment(
        app,
        "big",
        settings,
        session,
        account,
        region,
        _Package(tmp_path, template, (), ()),
        console,
        lambda q: True,
        0.01,
    )
    outputs = deploy_stack(run, Target(MAIN, "shopev-big", region, template), execute=True)
    assert "shopev-big-NotesQueue" in outputs["NotesQueueUrl"]
    listed = aws.client("s3").list_objects_v2(Bucket=bucket_name(account, region), Prefix="shopev/templates/")
    assert len(listed.get("Contents", [])) == 1
    aws.client("cloudformation").delete_stack(StackName="shopev-big")


def test_diff_of_a_stage_not_deployed_yet_says_everything_is_new(aws: Any, first: dict[str, Any]) -> None:
    _, console = _deploy_stage(first["app"], first["built"], "staging", execute=False)
    text = console.text
    assert "stack shopev-staging (eu-west-1): new (everything below is created)" in text
    assert "function log_audit (LogAuditFunction), role LogAuditRole (new):" in text
    assert "resources: all " in text and "  Add     OrdersTable (AWS::DynamoDB::Table)" in text
    assert "shopev-staging" not in [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]]


def test_parameters_take_the_stage_its_domain_and_that_domains_hosted_zone(aws: Any, first: dict[str, Any]) -> None:
    from dataclasses import replace

    from lambdakit.deploy.orchestrate import MAIN, Deployment, Target, open_stage, parameters

    route53 = aws.client("route53")
    route53.create_hosted_zone(Name="example.com", CallerReference="com")
    org = route53.create_hosted_zone(Name="example.org", CallerReference="org")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    settings, session, account, region = open_stage(first["app"], "prod")
    template = {
        "Parameters": {
            "Stage": {"Type": "String"},
            "SiteDomainName": {"Type": "String", "Default": "www.example.com"},
            "HostedZoneId": {"Type": "AWS::Route53::HostedZone::Id"},
            "Unset": {"Type": "String"},
            "Defaulted": {"Type": "String", "Default": "x"},
        },
        "Resources": {},
    }
    settings = replace(settings, site_domain="www.example.org")
    run = Deployment(first["app"], "prod", settings, session, account, region, first["built"])
    values, missing = parameters(run, Target(MAIN, "shopev-prod", region, template))
    assert values == {"Stage": "prod", "SiteDomainName": "www.example.org", "HostedZoneId": org}
    assert missing == ("Unset",)


def _deploy_stage(app: Any, built: Any, stage: str, execute: bool) -> tuple[dict[str, Any], Console]:
    from lambdakit.deploy.orchestrate import deploy

    console = Console()
    outputs = deploy(
        app, stage, out=built.out, confirm=lambda q: True, echo=console, poll=0.01, built=built, execute=execute
    )
    return outputs, console


# -- the command line -----------------------------------------------------------------------------------


def test_the_cli_refuses_to_deploy_without_a_terminal_unless_told_yes(root: Path) -> None:
    from click.testing import CliRunner

    from lambdakit.cli import main

    result = CliRunner().invoke(main, ["deploy", "no_such_package_needed", "--stage", "dev"])
    assert result.exit_code == 2 and "pass --yes to deploy without asking" in result.output


def test_the_cli_refuses_credentials_of_another_account_before_anything(aws: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lambdakit.cli import main

    name = write_package(tmp_path, {"__init__.py": APP.replace("{writes}", "").replace('"shopev"', '"elsewhere"')})
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "elsewhere.toml").write_text(
        '[stages.prod]\naccount = "111111111111"\nregion = "eu-west-1"\n'
    )
    result = CliRunner().invoke(main, ["deploy", name, "--stage", "prod", "--yes"])
    assert result.exit_code == 2, result.output
    assert "111111111111" in result.output and "123456789012" in result.output
    assert "Traceback" not in result.output
    assert "elsewhere-prod" not in [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]]


def test_the_cli_diff_prints_the_review_and_changes_nothing(
    second: dict[str, Any], aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from lambdakit.cli import main

    monkeypatch.chdir(tmp_path)  # diff packages into .lambdakit/package/STAGE here
    name = write_package(tmp_path, {"__init__.py": APP.replace("{writes}", "")})  # count_click writes nothing again
    result = CliRunner().invoke(main, ["diff", name, "--stage", "dev"])
    assert result.exit_code == 0, result.output
    assert "function count_click (CountClickFunction), role CountClickRole:" in result.output
    assert "    - dynamodb:BatchWriteItem, dynamodb:ConditionCheckItem" in result.output
    cf = aws.client("cloudformation")
    assert cf.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    pending = [c for c in cf.list_change_sets(StackName=STACK)["Summaries"] if c["ExecutionStatus"] == "AVAILABLE"]
    assert pending == []


def test_destroy_deletes_the_stack_and_keeps_the_table(second: dict[str, Any], root: Path, aws: Any) -> None:
    from lambdakit.deploy.changes import stack_status
    from lambdakit.deploy.destroy import destroy

    cf = aws.client("cloudformation")
    table = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]}[
        "OrdersTableName"
    ]
    console = Console()
    assert destroy(second["app"], "dev", confirm=lambda q: True, echo=console, poll=0.01) == [STACK]
    assert stack_status(cf, STACK) is None
    assert table in aws.client("dynamodb").list_tables()["TableNames"]
    assert f"aws dynamodb delete-table --table-name {table} --region {REGION}" in console.text
    assert aws.client("lambda").list_functions()["Functions"] == []
