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


def _pool(app: App, pool: Cognito) -> dict[str, Any]:
    from lambdakit.derive.cognito import pool_resources, scopes_used

    return pool_resources(pool, scopes_used(app, pool))


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


def resource_path(path: str) -> str:
    """A route path as a stage MethodSetting names it: `/orders/{id}` -> `/~1orders~1{id}` (JSON-pointer escaped)."""
    return "/" + path.replace("~", "~0").replace("/", "~1")


def _caches(app: App) -> bool:
    return any(s.route is not None and s.route.cache and not s.storage_first for s in app.functions)


def _method_settings(app: App) -> list[dict[str, Any]]:
    """Stage-wide metrics and throttle, then one setting per route that caches or throttles on its own."""
    base: dict[str, Any] = {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                            "DataTraceEnabled": False}
    if app.service.throttle:
        base["ThrottlingRateLimit"], base["ThrottlingBurstLimit"] = app.service.throttle
    if _caches(app):
        base["CachingEnabled"] = False  # the cluster serves only the routes that ask (cache=SECONDS)
    settings = [base]
    for spec in app.functions:
        route = spec.route
        if route is None or not (route.cache or route.throttle):
            continue
        # A method setting replaces the stage-wide one for that method: restate what it keeps.
        setting: dict[str, Any] = {"ResourcePath": resource_path(route.path), "HttpMethod": route.method,
                                   "MetricsEnabled": True, "DataTraceEnabled": False}
        if route.cache:
            setting.update(CachingEnabled=True, CacheTtlInSeconds=route.cache, CacheDataEncrypted=True)
        elif _caches(app):
            setting["CachingEnabled"] = False
        throttle = route.throttle or app.service.throttle
        if throttle:
            setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"] = throttle
        settings.append(setting)
    return settings


def usage_plans(app: App) -> dict[str, Any]:
    """A usage plan per `lk.UsagePlan` (a default one when routes need keys but none is declared),
    and the API keys each plan names. Keys are generated by API Gateway: no secret is in the template."""
    from lambdakit.core.names import camel
    from lambdakit.declare.service import UsagePlan

    plans = list(app.service.usage_plans)
    if not plans and any(s.route is not None and s.route.api_key for s in app.functions):
        plans = [UsagePlan("default")]
    out: dict[str, Any] = {}
    for plan in plans:
        plan_id = camel(plan.name) + "UsagePlan"
        props: dict[str, Any] = {
            "UsagePlanName": {"Fn::Sub": f"${{AWS::StackName}}-{plan.name}"},
            # `Api.Stage` is SAM's reference to the stage it generates; it also orders the plan after it.
            "ApiStages": [{"ApiId": {"Ref": API_ID}, "Stage": {"Ref": API_ID + ".Stage"}}],
        }
        if plan.quota is not None:
            props["Quota"] = {"Limit": plan.quota, "Period": plan.period}
        if plan.rate is not None and plan.burst is not None:
            props["Throttle"] = {"RateLimit": plan.rate, "BurstLimit": plan.burst}
        out[plan_id] = {"Type": "AWS::ApiGateway::UsagePlan", "Properties": props}
        for key in plan.keys:
            key_id = camel(plan.name) + camel(key) + "ApiKey"
            out[key_id] = {"Type": "AWS::ApiGateway::ApiKey", "Properties": {
                "Name": {"Fn::Sub": f"${{AWS::StackName}}-{plan.name}-{key}"},
                "Description": f"API key {key!r} of usage plan {plan.name!r}", "Enabled": True}}
            out[key_id + "InPlan"] = {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
                "KeyId": {"Ref": key_id}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan_id}}}
    return out


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
    if _caches(app):
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
        window = consumer.options.window if consumer is not None and consumer.options is not None else 0
        resources.update(storage.queue_resources(queue, consumer.timeout if consumer else None, window))
    for stream in streams:
        resources.update(storage.stream_resource(stream))
    for pool in app.pools:
        if pool.arn is None:
            resources.update(_pool(app, pool))
    http = [s for s in app.functions if s.kind == "http"]
    authorizers_in_use = used_auth(app)
    for spec in app.functions:
        resources[iam.log_group_id(spec)] = _log_group(app)
        resources[role_id(spec)] = _role(spec)
        resources[spec.logical_id] = _function(app, spec, code_uri)
        if spec.kind == "http" and spec.route is not None and not spec.storage_first:
            resources[spec.logical_id.removesuffix("Function") + "Permission"] = _invoke_permission(
                spec, f"*/{spec.route.method}{_execute_path(spec.route.path)}")
        if spec.kind == "authorizer" and spec in authorizers_in_use:
            resources[authorizer_id(spec) + "Permission"] = _invoke_permission(spec, "authorizers/*")
        if spec.storage_first:
            resources[storage.ingest_role_id(spec)] = storage.ingest_role(spec)
        if isinstance(spec.options, KinesisOptions):
            resources.update(storage.failure_queue(spec))
        if spec.idempotent:
            resources.update(storage.idempotency_table(spec))
    if http:
        resources[API_ID] = _api(app)
        resources.update(usage_plans(app))
        outputs["ApiUrl"] = {"Description": "Base URL of the REST API",
                             "Value": {"Fn::Sub": f"https://${{{API_ID}}}.execute-api.${{AWS::Region}}."
                                                  f"${{AWS::URLSuffix}}/{app.service.stage}/"}}
        outputs["ApiId"] = {"Value": {"Ref": API_ID}}
    for pool in app.pools:
        if pool.arn is None:
            from lambdakit.derive.cognito import pool_outputs, scopes_used

            outputs.update(pool_outputs(pool, scopes_used(app, pool)))
    for res in [*app.tables, *streams]:
        outputs[res.logical_id + "Name"] = {"Value": {"Ref": res.logical_id}}
    for queue in queues:  # a queue's Ref is its URL
        outputs[queue.logical_id + "Url"] = {"Value": {"Ref": queue.logical_id}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"lambdakit service {app.service.name}",
        "Resources": resources,
        "Outputs": outputs,
    }


