"""The pure parts of deploy: the IAM review over template pairs, the other changes, the stack order,
what destroy keeps, what a failure says, capabilities and code URIs. No AWS."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lambdakit.deploy import review
from lambdakit.deploy.changes import ResourceChange, capabilities
from lambdakit.deploy.destroy import kept
from lambdakit.deploy.events import Event, Outcome, failure_message
from lambdakit.deploy.orchestrate import MAIN, Step, step_order

EDGE_LOGS = "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:/aws/lambda/us-east-1.${ShipFunction}:*"
ORDERS_ARN = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${OrdersTable}"}


def _role(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {},
            "Policies": [
                {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}
            ],
        },
    }


def _function(role: str, name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Environment": {"Variables": {"LAMBDAKIT_FUNCTION": f"shop:{name}"}},
        },
    }


def _allow(actions: list[str], resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    base = {
        "OrdersTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "RetainExceptOnCreate"},
        "AuditQueue": {"Type": "AWS::SQS::Queue"},
        "ShipLogGroup": {"Type": "AWS::Logs::LogGroup"},
    }
    return {"Resources": {**base, **resources}}


OLD = _template(
    ShipRole=_role(
        _allow(["sqs:ReceiveMessage", "sqs:DeleteMessage"], {"Fn::Sub": "${AuditQueue.Arn}"}),
        _allow(["logs:PutLogEvents"], {"Fn::GetAtt": ["ShipLogGroup", "Arn"]}),
    ),
    ShipFunction=_function("ShipRole", "ship"),
)


def test_a_function_gaining_a_write_names_the_actions_and_the_table() -> None:
    new = copy.deepcopy(OLD)
    new["Resources"]["ShipRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        _allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], ORDERS_ARN)
    )
    found = review.iam_review(OLD, new)
    (change,) = found.changes
    assert change.subject == "function ship (ShipFunction)" and change.role == "ShipRole"
    assert change.gained == (
        review.Grant("dynamodb:PutItem", "table Orders"),
        review.Grant("dynamodb:UpdateItem", "table Orders"),
    )
    assert change.lost == () and not change.new_role
    assert review.iam_lines(found) == [
        "IAM changes:",
        "  function ship (ShipFunction), role ShipRole:",
        "    + dynamodb:PutItem, dynamodb:UpdateItem on table Orders",
    ]


def test_a_lost_grant_is_listed_with_a_minus() -> None:
    new = copy.deepcopy(OLD)
    statements = new["Resources"]["ShipRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    statements[0]["Action"] = ["sqs:ReceiveMessage"]
    (change,) = review.iam_review(OLD, new).changes
    assert change.lost == (review.Grant("sqs:DeleteMessage", "queue Audit"),) and change.gained == ()
    assert "    - sqs:DeleteMessage on queue Audit" in review.iam_lines(review.iam_review(OLD, new))


def test_the_role_is_found_through_the_functions_role_property_not_its_name() -> None:
    new = copy.deepcopy(OLD)
    new["Resources"]["OtherRole"] = _role(_allow(["dynamodb:GetItem"], ORDERS_ARN))
    new["Resources"]["ShipFunction"]["Properties"]["Role"] = {"Fn::GetAtt": ["OtherRole", "Arn"]}
    found = review.iam_review(OLD, new)
    change = next(c for c in found.changes if c.subject.startswith("function"))
    assert change.role == "OtherRole" and change.new_role
    assert review.Grant("dynamodb:GetItem", "table Orders") in change.gained
    assert review.Grant("sqs:DeleteMessage", "queue Audit") in change.lost
    assert found.new_roles == ("OtherRole",)


def test_an_unchanged_template_has_no_iam_change() -> None:
    assert review.iam_review(OLD, copy.deepcopy(OLD)).empty
    assert review.iam_lines(review.iam_review(OLD, OLD)) == ["IAM: no change"]


def test_a_new_stack_lists_every_grant_and_role_as_new() -> None:
    found = review.iam_review(None, OLD)
    (change,) = found.changes
    assert change.new_role and len(change.gained) == 3 and found.new_roles == ("ShipRole",)
    assert "    + logs:PutLogEvents on log group Ship" in review.iam_lines(found)


def test_a_removed_function_loses_everything_and_its_role_is_removed() -> None:
    new = _template()
    found = review.iam_review(OLD, new)
    (change,) = found.changes
    assert change.gained == () and len(change.lost) == 3 and found.removed_roles == ("ShipRole",)


def test_a_role_no_function_uses_is_reviewed_as_a_role() -> None:
    new = copy.deepcopy(OLD)
    new["Resources"]["IngestRole"] = _role(_allow(["sqs:SendMessage"], {"Fn::GetAtt": ["AuditQueue", "Arn"]}))
    (change,) = review.iam_review(OLD, new).changes
    assert change.subject == "role IngestRole" and change.gained == (review.Grant("sqs:SendMessage", "queue Audit"),)


def test_policies_attached_to_the_role_and_managed_policies_count() -> None:
    new = copy.deepcopy(OLD)
    new["Resources"]["Extra"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"Roles": [{"Ref": "ShipRole"}], "PolicyDocument": {"Statement": _allow(["s3:GetObject"], "*")}},
    }
    new["Resources"]["ShipRole"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    (change,) = review.iam_review(OLD, new).changes
    assert set(change.gained) == {
        review.Grant("s3:GetObject", "*"),
        review.Grant("managed policy", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    }


@pytest.mark.parametrize(
    ("resource", "shown"),
    [
        (ORDERS_ARN, "table Orders"),
        ({"Fn::Sub": ORDERS_ARN["Fn::Sub"] + "/index/*"}, "table Orders (its indexes)"),
        ({"Fn::GetAtt": ["AuditQueue", "Arn"]}, "queue Audit"),
        ({"Fn::GetAtt": "AuditQueue.Arn"}, "queue Audit"),
        ({"Fn::Sub": "${ShipLogGroup.Arn}"}, "log group Ship"),
        ({"Ref": "AuditQueue"}, "queue Audit"),
        ("*", "*"),
        ("arn:aws:s3:::other-bucket/*", "arn:aws:s3:::other-bucket/*"),
        ({"Fn::Sub": "arn:aws:sns:${AWS::Region}:1:topic"}, "arn:aws:sns:${AWS::Region}:1:topic"),
        ({"Fn::Sub": EDGE_LOGS}, EDGE_LOGS),  # named after the function, not the function: shown as written
    ],
)
def test_resources_are_shown_as_what_they_are(resource: Any, shown: str) -> None:
    assert review.describe(resource, OLD) == shown


def test_the_other_changes_say_replacement_and_data_loudly() -> None:
    old = {
        "Resources": {
            "OrdersTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "RetainExceptOnCreate",
                "UpdateReplacePolicy": "Retain",
            },
            "CacheTable": {"Type": "AWS::DynamoDB::Table"},
            "ShipFunction": {"Type": "AWS::Lambda::Function"},
        }
    }
    lines = review.change_lines(
        [
            ResourceChange("Modify", "OrdersTable", "AWS::DynamoDB::Table", "True"),
            ResourceChange("Modify", "ShipFunction", "AWS::Lambda::Function", "Conditional"),
            ResourceChange("Remove", "OrdersTable", "AWS::DynamoDB::Table", None),
            ResourceChange("Remove", "CacheTable", "AWS::DynamoDB::Table", None),
            ResourceChange("Add", "AuditQueue", "AWS::SQS::Queue", None),
        ],
        old,
        {"Resources": {}},
    )
    assert "WILL BE REPLACED" in lines[1] and "kept (UpdateReplacePolicy Retain)" in lines[1]
    assert "MAY BE REPLACED" in lines[2]
    assert "kept in the account: DeletionPolicy RetainExceptOnCreate" in lines[3]
    assert "DELETED WITH ITS DATA" in lines[4]
    assert lines[5] == "  Add     AuditQueue (AWS::SQS::Queue)"


# -- the order of the stacks -----------------------------------------------------------------------------


def test_extra_stacks_go_first_then_the_main_one() -> None:
    assert step_order(["domain", "us-east-1"], frozenset(), main_exists=False) == (
        Step("domain"),
        Step("us-east-1"),
        Step(MAIN),
    )


def test_a_stack_built_from_the_main_outputs_gets_a_second_pass_on_a_first_create() -> None:
    assert step_order(["us-east-1", "eu-central-1"], frozenset({"us-east-1"}), main_exists=False) == (
        Step("us-east-1"),
        Step("eu-central-1"),
        Step(MAIN),
        Step("us-east-1", with_main_outputs=True),
        Step(MAIN),
    )


def test_once_the_main_stack_exists_its_outputs_configure_the_edge_stack_in_one_pass() -> None:
    assert step_order(["us-east-1"], frozenset({"us-east-1"}), main_exists=True) == (
        Step("us-east-1", with_main_outputs=True),
        Step(MAIN),
    )


def test_a_first_create_leaves_the_deploy_config_function_and_what_names_it_out_of_the_edge_stack() -> None:
    from lambdakit.deploy.orchestrate import without

    edge: dict[str, Any] = {
        "Resources": {
            "SiteCertificate": {"Type": "AWS::CertificateManager::Certificate"},
            "SiteAuthRole": {"Type": "AWS::IAM::Role"},
            "SiteAuth": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Role": {"Fn::GetAtt": "SiteAuthRole.Arn"}},
            },
            "SiteAuthLogs": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {"Resource": {"Fn::Sub": "log-group:/aws/lambda/us-east-1.${SiteAuth}:*"}}
                },
            },
            "SiteAuthAlarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": "SiteAuthLogs"},
        },
        "Outputs": {
            "SiteCertificateArn": {"Value": {"Ref": "SiteCertificate"}},
            "SiteAuthVersionArn": {"Value": {"Ref": "SiteAuth.Version"}},
        },
    }
    left = without(edge, {"SiteAuth"})
    assert list(left["Resources"]) == ["SiteCertificate"]  # the role only the function used goes too
    assert list(left["Outputs"]) == ["SiteCertificateArn"]
    assert "SiteAuth" in edge["Resources"]  # a copy


# -- destroy, failures, capabilities, code ---------------------------------------------------------------


def test_destroy_keeps_what_the_template_retains_and_says_how_to_delete_it() -> None:
    template = {
        "Resources": {
            "OrdersTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "RetainExceptOnCreate"},
            "UsersPool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "Retain"},
            "AuditQueue": {"Type": "AWS::SQS::Queue"},
        }
    }
    found = kept(template, {"OrdersTable": "shop-dev-Orders-1", "UsersPool": "eu-west-1_abc", "AuditQueue": "q"})
    assert [k.logical_id for k in found] == ["OrdersTable", "UsersPool"]
    assert "aws dynamodb delete-table --table-name shop-dev-Orders-1 --region eu-west-1" in found[0].line("eu-west-1")
    assert "aws cognito-idp delete-user-pool --user-pool-id eu-west-1_abc" in found[1].line("eu-west-1")


def _event(logical_id: str, status: str, reason: str = "", kind: str = "AWS::SQS::Queue") -> Event:
    return Event(logical_id + status, "12:00:00", logical_id, kind, status, reason)


def test_a_failure_names_the_first_resource_not_the_cancelled_ones() -> None:
    outcome = Outcome(
        "shop-dev",
        "UPDATE_ROLLBACK_COMPLETE",
        (
            _event("shop-dev", "UPDATE_IN_PROGRESS", kind="AWS::CloudFormation::Stack"),
            _event("AuditQueue", "UPDATE_FAILED", "Resource update cancelled"),
            _event("OrdersTable", "UPDATE_FAILED", "Attribute x is not defined", "AWS::DynamoDB::Table"),
            _event("shop-dev", "UPDATE_ROLLBACK_COMPLETE", kind="AWS::CloudFormation::Stack"),
        ),
    )
    assert not outcome.ok
    message = failure_message(outcome)
    assert "OrdersTable (AWS::DynamoDB::Table) UPDATE_FAILED: Attribute x is not defined" in message
    assert "the stack is now UPDATE_ROLLBACK_COMPLETE: the stack is back to its previous version" in message


def test_capabilities_follow_what_the_template_holds() -> None:
    assert capabilities({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}) == []
    assert capabilities(OLD) == ["CAPABILITY_IAM"]
    named = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}}
    assert capabilities(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    assert "CAPABILITY_AUTO_EXPAND" in capabilities({"Transform": "AWS::LanguageExtensions", "Resources": {}})


def test_every_code_path_becomes_the_uploaded_uri(tmp_path: Path) -> None:
    from lambdakit.deploy import DeployError
    from lambdakit.deploy.bucket import with_code_uris

    template: dict[str, Any] = {
        "Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "shop.zip"}}}
    }
    uris = {(tmp_path / "shop.zip").resolve(): "s3://b/shop/abc.zip"}
    assert with_code_uris(template, tmp_path, uris)["Resources"]["F"]["Properties"]["CodeUri"] == "s3://b/shop/abc.zip"
    assert template["Resources"]["F"]["Properties"]["CodeUri"] == "shop.zip"  # a copy
    with pytest.raises(DeployError, match="not among the packaged artifacts"):
        with_code_uris(template, tmp_path, {})


class _EdgeStack:
    """A CloudFormation stand-in for one us-east-1 stack whose delete fails while `replicas` attempts remain
    (CloudFront still holding Lambda@Edge replicas), with the events AWS records for it."""

    REASON = (
        "Resource handler returned message: Lambda was unable to delete arn:aws:lambda:us-east-1:1:function:edge:1 "
        "because it is a replicated function."
    )

    def __init__(self, replicas: int) -> None:
        self.replicas, self.status, self.deletes = replicas, "UPDATE_COMPLETE", 0
        self.events: list[dict[str, str]] = []

    def _add(self, logical_id: str, status: str, reason: str = "") -> None:
        kind = "AWS::Lambda::Function" if logical_id != "shop-dev-us-east-1" else "AWS::CloudFormation::Stack"
        event = {"EventId": str(len(self.events)), "LogicalResourceId": logical_id, "ResourceType": kind}
        self.events.insert(0, {**event, "ResourceStatus": status, "ResourceStatusReason": reason})

    def delete_stack(self, StackName: str) -> None:
        self.deletes += 1
        if self.replicas:
            self.replicas -= 1
            self._add("EdgeFunction", "DELETE_FAILED", self.REASON)
            self.status = "DELETE_FAILED"
        else:
            self._add("EdgeFunction", "DELETE_COMPLETE")
            self.status = "DELETE_COMPLETE"

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackStatus": self.status}]}

    def describe_stack_events(self, StackName: str, **page: Any) -> dict[str, Any]:
        return {"StackEvents": list(self.events)}


def test_destroy_retries_a_stack_held_by_edge_replicas_until_it_goes() -> None:
    from lambdakit.deploy.destroy import _delete

    cf, lines = _EdgeStack(replicas=2), list[str]()
    _delete(cf, "shop-dev-us-east-1", "us-east-1", "lambdakit destroy shop --stage dev", lines.append, 0, 60, 0)
    assert cf.deletes == 3 and cf.status == "DELETE_COMPLETE"
    assert sum("still removing the Lambda@Edge replicas" in line for line in lines) == 2


def test_destroy_gives_up_on_edge_replicas_with_the_command_that_finishes_later() -> None:
    from lambdakit.deploy import DeployError
    from lambdakit.deploy.destroy import _delete

    cf = _EdgeStack(replicas=99)
    with pytest.raises(DeployError) as stopped:
        _delete(cf, "shop-dev-us-east-1", "us-east-1", "lambdakit destroy shop --stage dev", lambda line: None, 0, 0, 0)
    assert cf.deletes == 1
    message = str(stopped.value)
    assert "`lambdakit destroy shop --stage dev`" in message
    assert "aws cloudformation delete-stack --stack-name shop-dev-us-east-1 --region us-east-1" in message


def test_the_artifact_bucket_on_an_https_endpoint_denies_every_request_not_over_tls() -> None:
    import json

    import boto3
    from moto import mock_aws

    from lambdakit.deploy.bucket import ensure_bucket

    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url="https://s3.eu-west-1.amazonaws.com")
        lines: list[str] = []
        name = ensure_bucket(s3, "123456789012", "eu-west-1", lines.append)
        (statement,) = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        assert ensure_bucket(s3, "123456789012", "eu-west-1", lines.append) == name  # found, not made again
    assert name == "lambdakit-artifacts-123456789012-eu-west-1" and len(lines) == 1
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
