"""The SAM template of a service: a rendering of its resource plan, deterministic to the byte."""

from __future__ import annotations

from typing import Any

from lambdakit.core.paths import segments
from lambdakit.declare.app import App
from lambdakit.derive import iam, openapi, storage
from lambdakit.derive.authorizers import authorizer_id, used_auth
from lambdakit.derive.plan import API_ID, FunctionPlan, Plan, TablePlan, plan_of
from lambdakit.derive.site import api_domain
from lambdakit.derive.skips import API_SKIPS, FUNCTION_SKIPS, LOG_SKIPS, TABLE_SKIPS, skips
from lambdakit.derive.stage import KEPT, STAGE_PARAMETER, stage_parameter

HANDLER = "lambdakit.entry.handler"


def _table(table: TablePlan) -> dict[str, Any]:
    props: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST", "KeySchema": table.key_schema()}
    if table.indexes:
        props["GlobalSecondaryIndexes"] = table.global_secondary_indexes()
    props["AttributeDefinitions"] = table.attribute_definitions()
    props["SSESpecification"] = {"SSEEnabled": True}
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    if table.ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": table.ttl, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        **KEPT,
        "Metadata": skips(TABLE_SKIPS),
        "Properties": props,
    }


def _function(app: App, fn: FunctionPlan, code_uri: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "CodeUri": code_uri,
        "Handler": HANDLER,
        "Runtime": app.service.runtime,
        "Architectures": [app.service.architecture],
        "MemorySize": fn.memory,
        "Timeout": fn.timeout,
        "Role": {"Fn::GetAtt": [fn.role_id, "Arn"]},
        "Tracing": "Active",
        "LoggingConfig": {"LogGroup": {"Ref": fn.log_group_id}, "LogFormat": "JSON"},
        "Environment": {"Variables": dict(fn.environment)},
    }
    if fn.trigger is not None:
        props["Events"] = storage.event_source(fn)
    return {"Type": "AWS::Serverless::Function", "Metadata": skips(FUNCTION_SKIPS), "Properties": props}


def _role(fn: FunctionPlan) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [{"PolicyName": fn.name, "PolicyDocument": iam.policy_document(fn)}],
        },
    }


def _log_group(app: App) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Metadata": skips(LOG_SKIPS),
        "Properties": {"RetentionInDays": app.service.log_retention_days},
    }


def _invoke_permission(fn: FunctionPlan, source_arn: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [fn.logical_id, "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{API_ID}}}/{source_arn}"
            },
        },
    }


def resource_path(path: str) -> str:
    """A route path as a stage MethodSetting names it: `/orders/{id}` -> `/~1orders~1{id}` (JSON-pointer escaped)."""
    return "/" + path.replace("~", "~0").replace("/", "~1")


def _caches(app: App) -> bool:
    return any(s.route is not None and s.route.cache and not s.storage_first for s in app.functions)


def _method_settings(app: App) -> list[dict[str, Any]]:
    """Stage-wide metrics and throttle, then one setting per route that caches or throttles on its own."""
    base: dict[str, Any] = {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True, "DataTraceEnabled": False}
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
        setting: dict[str, Any] = {
            "ResourcePath": resource_path(route.path),
            "HttpMethod": route.method,
            "MetricsEnabled": True,
            "DataTraceEnabled": False,
        }
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
            out[key_id] = {
                "Type": "AWS::ApiGateway::ApiKey",
                "Properties": {
                    "Name": {"Fn::Sub": f"${{AWS::StackName}}-{plan.name}-{key}"},
                    "Description": f"API key {key!r} of usage plan {plan.name!r}",
                    "Enabled": True,
                },
            }
            out[key_id + "InPlan"] = {
                "Type": "AWS::ApiGateway::UsagePlanKey",
                "Properties": {"KeyId": {"Ref": key_id}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan_id}},
            }
    return out


def _api(app: App, plan: Plan) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Name": {"Fn::Sub": "${AWS::StackName}"},
        "StageName": app.service.stage,
        "OpenApiVersion": "3.0.1",
        "EndpointConfiguration": {"Type": "REGIONAL"},
        "TracingEnabled": True,
        "DefinitionBody": openapi.document(plan),
        "MethodSettings": _method_settings(app),
    }
    if _caches(app):
        props["CacheClusterEnabled"] = True
        props["CacheClusterSize"] = "0.5"
    return {"Type": "AWS::Serverless::Api", "Metadata": skips(API_SKIPS), "Properties": props}


def build_template(app: App, code_uri: str = "src") -> dict[str, Any]:
    """The whole SAM template; the same App always gives the same dict, in the same order."""
    return render(plan_of(app), code_uri)


def render(plan: Plan, code_uri: str = "src") -> dict[str, Any]:
    """The SAM template of a plan."""
    from lambdakit.derive.cognito import pool_outputs, pool_resources, scopes_used

    app = plan.app
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for table in plan.tables:
        resources[table.logical_id] = _table(table)
    for queue in plan.queues:
        resources.update(storage.queue_resources(queue))
    for stream in plan.streams:
        resources.update(storage.stream_resource(stream))
    for pool in plan.pools:
        resources.update(pool_resources(pool, scopes_used(app, pool)))
    authorizers_in_use = used_auth(app)
    for fn in plan.functions:
        spec = fn.spec
        resources[fn.log_group_id] = _log_group(app)
        resources[fn.role_id] = _role(fn)
        resources[fn.logical_id] = _function(app, fn, code_uri)
        if fn.permission_id is not None and spec.route is not None:
            resources[fn.permission_id] = _invoke_permission(
                fn, f"*/{spec.route.method}{_execute_api_glob(spec.route.path)}"
            )
        if spec.kind == "authorizer" and spec in authorizers_in_use:
            resources[authorizer_id(spec) + "Permission"] = _invoke_permission(fn, "authorizers/*")
        if fn.ingest_role_id is not None:
            resources[fn.ingest_role_id] = storage.ingest_role(fn)
        if fn.failure_queue is not None:
            resources.update(storage.failure_queue(fn.failure_queue))
        if fn.idempotency_table is not None:
            resources.update(storage.idempotency_table(fn.idempotency_table))
    if any(fn.spec.kind == "http" for fn in plan.functions):
        resources[API_ID] = _api(app, plan)
        resources.update(usage_plans(app))
        outputs["ApiUrl"] = {
            "Description": "Base URL of the REST API",
            "Value": {
                "Fn::Sub": f"https://${{{API_ID}}}.execute-api.${{AWS::Region}}."
                f"${{AWS::URLSuffix}}/{app.service.stage}/"
            },
        }
        outputs["ApiId"] = {"Value": {"Ref": API_ID}}
        outputs["ApiDomain"] = {  # what a site of this account and region mounts (`site.mount(path, package)`)
            "Value": api_domain(API_ID),
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-ApiDomain"}},
        }
    # Built once, deployed per stage: the stage is a parameter (deploy passes --stage), and an output, so
    # that a stack says which stage it is and the parameter is used even where no name needs it.
    parameters: dict[str, Any] = {STAGE_PARAMETER: stage_parameter()}
    conditions: dict[str, Any] = {}
    outputs[STAGE_PARAMETER] = {"Description": "The stage this stack is", "Value": {"Ref": STAGE_PARAMETER}}
    if plan.site is not None:
        from lambdakit.derive.site import resources as site_resources

        found, site_outputs, site_parameters = site_resources(app, plan.site)
        resources.update(found)
        outputs.update(site_outputs)
        parameters.update(site_parameters)
        from lambdakit.derive.site_auth import resources as site_auth_resources

        # auth=: the site's app client and what fails closed until the edge function exists (its parameter
        # takes the place of the required one derive/edge.py declares for every edge function)
        found, site_outputs, site_parameters, conditions = site_auth_resources(app, plan.site)
        resources.update(found)
        outputs.update(site_outputs)
        parameters.update(site_parameters)
    if any(fn.spec.kind == "http" for fn in plan.functions):
        from lambdakit.derive.domains import resources as domain_resources

        found, domain_outputs, domain_parameters = domain_resources(app, API_ID)  # domain=, base_path=
        resources.update(found)
        outputs.update(domain_outputs)
        parameters.update(domain_parameters)
    for pool in plan.pools:
        outputs.update(pool_outputs(pool, scopes_used(app, pool)))
    for logical_id in [t.logical_id for t in plan.tables] + [s.logical_id for s in plan.streams]:
        outputs[logical_id + "Name"] = {"Value": {"Ref": logical_id}}
    for queue in plan.queues:  # a queue's Ref is its URL
        outputs[queue.logical_id + "Url"] = {"Value": {"Ref": queue.logical_id}}
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"lambdakit service {app.service.name}",
    }
    if parameters:
        template["Parameters"] = parameters
    if conditions:
        template["Conditions"] = conditions
    return {**template, "Resources": resources, "Outputs": outputs}


#: CloudFormation's limit on resources in one stack, counted after the SAM transform.
MAX_RESOURCES = 500


def deployed_resources(template: dict[str, Any]) -> int:
    """How many resources the stack will hold once SAM has expanded its own types."""
    count = 0
    for resource in template["Resources"].values():
        kind = resource["Type"]
        count += 1
        if kind == "AWS::Serverless::Function":
            count += len(resource["Properties"].get("Events") or {})  # an event source mapping each
        elif kind == "AWS::Serverless::Api":
            count += 2  # its deployment and stage
    return count


def stack_problems(app: App, template: dict[str, Any]) -> list[str]:
    """What CloudFormation would refuse about the stack as a whole: a build error naming the fix."""
    from lambdakit.derive.limits import template_bytes, template_size_problems

    count = deployed_resources(template)
    found = template_size_problems(app.package, template_bytes(template))
    if count <= MAX_RESOURCES:
        return found
    return [
        f"{app.package}: the stack would hold {count} resources (CloudFormation allows {MAX_RESOURCES}; each "
        "function brings its role and log group): split the service into packages of their own, each its "
        "own stack, and mount them under one site if they share a domain",
        *found,
    ]


def _execute_api_glob(path: str) -> str:
    """The template as an execute-api ARN's resource part: each parameter a `*`."""
    return "/" + "/".join("*" if s.name else s.text for s in segments(path))
