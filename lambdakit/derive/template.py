"""The SAM template of a service: a pure function of its `App`, deterministic to the byte."""

from __future__ import annotations

from typing import Any

from lambdakit.declare.auth import Cognito
from lambdakit.declare.functions import FunctionSpec
from lambdakit.declare.resources import Queue, Stream, Table
from lambdakit.declare.service import App
from lambdakit.declare.triggers import KinesisOptions
from lambdakit.derive import iam, openapi, storage
from lambdakit.derive.authorizers import authorizer_id, used_auth
from lambdakit.derive.skips import API_SKIPS, FUNCTION_SKIPS, LOG_SKIPS, TABLE_SKIPS, skips

HANDLER = "lambdakit.entry.handler"
API_ID = "Api"

def _table(table: Table) -> dict[str, Any]:
    attrs: dict[str, str] = {}

    def key_schema(partition: tuple[str, str], sort: tuple[str, str] | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": partition[0], "KeyType": "HASH"}]
        attrs[partition[0]] = partition[1]
        if sort:
            schema.append({"AttributeName": sort[0], "KeyType": "RANGE"})
            attrs[sort[0]] = sort[1]
        return schema

    props: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST", "KeySchema": key_schema(table.key, table.sort_key)}
    if table.indexes:
        props["GlobalSecondaryIndexes"] = [
            {"IndexName": name, "KeySchema": key_schema(*keys), "Projection": {"ProjectionType": "ALL"}}
            for name, keys in table.indexes.items()]
    props["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()]
    props["SSESpecification"] = {"SSEEnabled": True}
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    if table.ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": table.ttl, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Metadata": skips(TABLE_SKIPS), "Properties": props}


def _pool(pool: Cognito) -> dict[str, Any]:
    from lambdakit.derive.cognito import pool_resources

    return pool_resources(pool)


def environment(app: App, spec: FunctionSpec) -> dict[str, Any]:
    """The variables the runtime reads: which function to run and each resource's physical name."""
    env: dict[str, Any] = {"LAMBDAKIT_FUNCTION": spec.target, "POWERTOOLS_SERVICE_NAME": app.service.name}
    for res in spec.resources:
        env[res.env] = {"Ref": res.logical_id}
    if spec.idempotent:
        env["LK_IDEMPOTENCY_TABLE"] = {"Ref": iam.idempotency_table_id(spec)}
    return env


def _function(app: App, spec: FunctionSpec, code_uri: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "CodeUri": code_uri,
        "Handler": HANDLER,
        "Runtime": app.service.runtime,
        "Architectures": ["arm64"],
        "MemorySize": spec.memory,
        "Timeout": spec.timeout,
        "Role": {"Fn::GetAtt": [role_id(spec), "Arn"]},
        "Tracing": "Active",
        "LoggingConfig": {"LogGroup": {"Ref": iam.log_group_id(spec)}, "LogFormat": "JSON"},
        "Environment": {"Variables": environment(app, spec)},
    }
    if spec.source is not None:
        props["Events"] = storage.event_source(spec)
    return {"Type": "AWS::Serverless::Function", "Metadata": skips(FUNCTION_SKIPS), "Properties": props}


def role_id(spec: FunctionSpec) -> str:
    return spec.logical_id.removesuffix("Function") + "Role"


def _role(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": spec.name, "PolicyDocument": iam.policy_document(spec)}],
        },
    }


def _log_group(app: App) -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "Metadata": skips(LOG_SKIPS),
            "Properties": {"RetentionInDays": app.service.log_retention_days}}


def _invoke_permission(spec: FunctionSpec, source_arn: str) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [spec.logical_id, "Arn"]},
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                 f"${{{API_ID}}}/{source_arn}"},
    }}


def _execute_path(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "*", path)


def _method_settings(app: App) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                            "DataTraceEnabled": False}
    if app.service.throttle:
        base["ThrottlingRateLimit"], base["ThrottlingBurstLimit"] = app.service.throttle
    settings = [base]
    for spec in app.functions:
        route = spec.route
        if route is None or not (route.cache or route.throttle):
            continue
        setting: dict[str, Any] = {"ResourcePath": route.path, "HttpMethod": route.method}
        if route.cache:
            setting.update(CachingEnabled=True, CacheTtlInSeconds=route.cache, CacheDataEncrypted=True)
        if route.throttle:
            setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"] = route.throttle
        settings.append(setting)
    return settings


def _api(app: App) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Name": {"Fn::Sub": "${AWS::StackName}"},
        "StageName": app.service.stage,
        "OpenApiVersion": "3.0.1",
        "EndpointConfiguration": {"Type": "REGIONAL"},
        "TracingEnabled": True,
        "DefinitionBody": openapi.document(app),
        "MethodSettings": _method_settings(app),
    }
    if any(s.route is not None and s.route.cache for s in app.functions):
        props["CacheClusterEnabled"] = True
        props["CacheClusterSize"] = "0.5"
    return {"Type": "AWS::Serverless::Api", "Metadata": skips(API_SKIPS), "Properties": props}


def build_template(app: App, code_uri: str = "src") -> dict[str, Any]:
    """The whole SAM template; the same App always gives the same dict, in the same order."""
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for table in app.tables:
        resources[table.logical_id] = _table(table)
    consumers = {id(s.source): s for s in app.functions if s.source is not None}
    queues: list[Queue] = list(app.queues) + [s.source for s in app.functions
                                              if s.kind == "http" and isinstance(s.source, Queue)]
    streams: list[Stream] = list(app.streams) + [s.source for s in app.functions
                                                 if s.kind == "http" and isinstance(s.source, Stream)]
    for queue in queues:
        consumer = consumers.get(id(queue))
        resources.update(storage.queue_resources(queue, consumer.timeout if consumer else None))
    for stream in streams:
        resources.update(storage.stream_resource(stream))
    for pool in app.pools:
        if pool.arn is None:
            resources.update(_pool(pool))
    http = [s for s in app.functions if s.kind == "http"]
    for spec in app.functions:
        resources[iam.log_group_id(spec)] = _log_group(app)
        resources[role_id(spec)] = _role(spec)
        resources[spec.logical_id] = _function(app, spec, code_uri)
        if spec.kind == "http" and spec.route is not None and not spec.storage_first:
            resources[spec.logical_id.removesuffix("Function") + "Permission"] = _invoke_permission(
                spec, f"*/{spec.route.method}{_execute_path(spec.route.path)}")
        if spec.kind == "authorizer" and spec in used_auth(app):
            resources[authorizer_id(spec) + "Permission"] = _invoke_permission(spec, "authorizers/*")
        if spec.storage_first:
            resources[storage.ingest_role_id(spec)] = storage.ingest_role(spec)
        if isinstance(spec.options, KinesisOptions):
            resources.update(storage.failure_queue(spec))
        if spec.idempotent:
            resources.update(storage.idempotency_table(spec))
    if http:
        resources[API_ID] = _api(app)
        outputs["ApiUrl"] = {"Description": "Base URL of the REST API",
                             "Value": {"Fn::Sub": f"https://${{{API_ID}}}.execute-api.${{AWS::Region}}."
                                                  f"${{AWS::URLSuffix}}/{app.service.stage}/"}}
        outputs["ApiId"] = {"Value": {"Ref": API_ID}}
    for pool in app.pools:
        if pool.arn is None:
            outputs[pool.logical_id + "Id"] = {"Value": {"Ref": pool.logical_id}}
            outputs[pool.logical_id + "ClientId"] = {"Value": {"Ref": pool.logical_id + "Client"}}
    for res in [*app.tables, *queues, *streams]:
        outputs[res.logical_id + "Name"] = {"Value": {"Ref": res.logical_id}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"lambdakit service {app.service.name}",
        "Resources": resources,
        "Outputs": outputs,
    }


