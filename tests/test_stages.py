"""Stage settings (deploy/SERVICE.toml), the stage name rule, the account check, and what is per stage in templates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdakit.declare.app import App
from lambdakit.deploy import DeployError
from lambdakit.deploy.stages import (
    StageSettings,
    check_account,
    parameter_values,
    project_root,
    resolve,
    settings,
    stage_problems,
    unknown_parameters,
)
from lambdakit.derive.stage import MAX_STAGE_LENGTH, STAGE_PATTERN, stage_problem
from lambdakit.derive.template import build_template
from tests.apps import make_app
from tests.validate import cfn_lint, transform

SERVICE = """
import lambdakit as lk

service = lk.Service("shop")
orders = lk.Table("orders", key="order_id")
users = lk.Cognito("shop-users", domain="shop-login", callback_urls=["https://www.example.com/"])

@lk.route("GET", "/orders/{order_id}", reads=[orders], auth=users)
def get_order(order_id: str) -> dict:
    return {}
"""

PROD = """
[stages.prod]
account = "123456789012"
region = "eu-west-1"
profile = "shop-prod"
domain = "api.example.com"
site_domain = "www.example.com"

[stages.prod.parameters]
AlarmEmail = "ops@example.com"

[stages.dev]
account = "210987654321"
"""


def app_with(tmp_path: Path, toml: str | None) -> App:
    """The shop in a project whose root holds a pyproject.toml and, if given, deploy/shop.toml."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    if toml is not None:
        (tmp_path / "deploy").mkdir()
        (tmp_path / "deploy" / "shop.toml").write_text(toml)
    return make_app(tmp_path, {"app.py": SERVICE})


def refused(tmp_path: Path, toml: str, stage: str = "prod") -> str:
    with pytest.raises(DeployError) as info:
        settings(app_with(tmp_path, toml), stage)
    message = str(info.value)
    assert str(tmp_path / "deploy" / "shop.toml") in message  # every message names the file
    return message


# -- the file ---------------------------------------------------------------------------------------------


def test_a_stage_named_in_the_file_gets_its_settings(tmp_path: Path) -> None:
    app = app_with(tmp_path, PROD)
    assert project_root(app) == tmp_path.resolve()
    prod = settings(app, "prod")
    assert prod == StageSettings(
        "prod",
        account="123456789012",
        region="eu-west-1",
        profile="shop-prod",
        domain="api.example.com",
        site_domain="www.example.com",
        parameters={"AlarmEmail": "ops@example.com"},
        source=tmp_path.resolve() / "deploy" / "shop.toml",
        table="prod",
    )
    dev = settings(app, "dev")
    assert (dev.account, dev.region, dev.profile, dev.parameters) == ("210987654321", None, None, {})


def test_without_a_file_a_stage_uses_the_current_credentials_and_region(tmp_path: Path) -> None:
    assert settings(app_with(tmp_path, None), "anything") == StageSettings("anything")


def test_the_project_root_is_the_nearest_folder_with_deploy_or_pyproject(tmp_path: Path) -> None:
    nested = tmp_path / "services"
    nested.mkdir()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "shop.toml").write_text(PROD)
    app = make_app(nested, {"app.py": SERVICE})  # services/lkappN/app.py: the root is two folders up
    assert project_root(app) == tmp_path.resolve()
    assert settings(app, "prod").account == "123456789012"


def test_a_stage_the_file_does_not_name_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    message = refused(tmp_path, PROD, stage="prd")
    assert "names the stages dev, prod, not 'prd' (did you mean 'prod'?)" in message
    assert "[stages.prd]" in message and 'account = "123456789012"' in message and '[stages."*"]' in message


def test_the_star_table_gives_every_other_stage_its_settings(tmp_path: Path) -> None:
    app = app_with(tmp_path, PROD + '\n[stages."*"]\naccount = "111122223333"\nregion = "eu-central-1"\n')
    preview = settings(app, "pr-123")
    assert (preview.stage, preview.account, preview.region) == ("pr-123", "111122223333", "eu-central-1")
    assert preview.where.endswith('deploy/shop.toml [stages."*"]')  # messages name the table it came from
    assert settings(app, "prod").account == "123456789012"  # a named stage keeps its own


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[stages.prod]\nacount = "123456789012"\n', "[stages.prod]: unknown key 'acount' (did you mean 'account'?)"),
        ('[stages.prod]\nregion = "eu-west-1"\n', '[stages.prod]: account = "123456789012" is required'),
        ('[stages.prod]\naccount = "12345"\n', "account = '12345' is not an AWS account id: 12 digits, in quotes"),
        ("[stages.prod]\naccount = 12345678901\n", 'account = 12345678901: quote it (account = "012345678901")'),
        (
            '[stages.prod]\naccount = "123456789012"\nregion = "europe"\n',
            "region = 'europe' is not an AWS region name",
        ),
        (
            '[stages.prod]\naccount = "123456789012"\n[stages.prod.parameters]\nReplicas = 3\n',
            'parameters.Replicas = 3: CloudFormation parameters are strings; quote it (Replicas = "3")',
        ),
        (
            '[stages.prod]\naccount = "123456789012"\n[stages.prod.parameters]\nStage = "live"\n',
            "parameters.Stage: deploy sets it from --stage; remove it",
        ),
        (
            '[stages.prod]\naccount = "123456789012"\ndomain = "API.example.com/"\n',
            "domain = 'API.example.com/' is not a lower-case domain name",
        ),
        ('[stages.Prod]\naccount = "123456789012"\n', "[stages.Prod]: stage 'Prod': a stage name is lower-case"),
        ('[stage.prod]\naccount = "123456789012"\n', "unknown key 'stage' (did you mean 'stages'?)"),
        ("[stages.prod\n", "not valid TOML"),
        ("[stages]\n", "no stages; name each one in a table"),
    ],
    ids=[
        "typo",
        "no-account",
        "short-account",
        "unquoted-account",
        "region",
        "parameter-not-string",
        "parameter-deploy-sets",
        "domain",
        "stage-name",
        "top-level-typo",
        "toml",
        "empty",
    ],
)
def test_a_mistake_in_the_file_names_the_file_and_the_fix(tmp_path: Path, toml: str, expected: str) -> None:
    assert expected in refused(tmp_path, toml)


def test_a_mistake_in_another_stage_is_reported_too(tmp_path: Path) -> None:
    """The whole file is checked on every deploy: a typo under prod shows on the first dev deploy."""
    message = refused(tmp_path, PROD + '\n[stages.test]\naccount = "1"\nregoin = "x"\n', stage="dev")
    assert "[stages.test]: unknown key 'regoin'" in message and "[stages.test]: account = '1'" in message


def test_parameters_the_template_does_not_declare_are_named(tmp_path: Path) -> None:
    app = app_with(tmp_path, PROD)
    template = build_template(app)
    template["Parameters"]["AlarmEmails"] = {"Type": "String"}
    (problem,) = unknown_parameters(settings(app, "prod"), template)
    assert "deploy/shop.toml [stages.prod]: parameters.AlarmEmail: the template declares no parameter" in problem
    assert "(did you mean 'AlarmEmails'?)" in problem and "Stage" not in problem.split("declares ")[-1]
    template["Parameters"]["AlarmEmail"] = {"Type": "String"}
    assert unknown_parameters(settings(app, "prod"), template) == []


def test_the_settings_fill_the_stage_domains_and_parameters(tmp_path: Path) -> None:
    app = app_with(tmp_path, PROD)
    template = build_template(app)
    for name in ("AlarmEmail", "ApiDomainName", "SiteDomainName"):
        template["Parameters"][name] = {"Type": "String"}
    assert parameter_values(settings(app, "prod"), template) == {
        "Stage": "prod",
        "ApiDomainName": "api.example.com",
        "SiteDomainName": "www.example.com",
        "AlarmEmail": "ops@example.com",
    }
    del template["Parameters"]["ApiDomainName"]
    with pytest.raises(DeployError, match=r"domain = 'api.example.com' overrides lk.Service\(domain=\), which"):
        parameter_values(settings(app, "prod"), template)


def test_a_region_on_the_command_line_must_agree_with_the_file(tmp_path: Path) -> None:
    prod = settings(app_with(tmp_path, PROD), "prod")
    assert resolve(prod, "eu-west-1", "other").profile == "other"
    with pytest.raises(DeployError, match=r"the stage is in eu-west-1, --region says us-east-1"):
        resolve(prod, "us-east-1")
    assert resolve(StageSettings("dev"), "us-east-1").region == "us-east-1"


# -- the stage name ---------------------------------------------------------------------------------------

GOOD = ["dev", "prod", "pr-123", "a", "eu1", "x" * MAX_STAGE_LENGTH]
BAD = ["Prod", "prod_1", "1prod", "dev-", "-dev", "x" * (MAX_STAGE_LENGTH + 1), "bad stage!", "", "prod.eu"]


@pytest.mark.parametrize("stage", GOOD)
def test_valid_stage_names(stage: str) -> None:
    assert stage_problem(stage) is None
    assert re.fullmatch(STAGE_PATTERN, stage)  # CloudFormation's AllowedPattern agrees


@pytest.mark.parametrize("stage", BAD)
def test_stage_names_aws_would_refuse_somewhere(stage: str) -> None:
    problem = stage_problem(stage)
    assert problem is not None and f"stage {stage!r}: a stage name is lower-case letters, digits and '-'" in problem
    assert not re.fullmatch(STAGE_PATTERN, stage)


def test_a_stage_name_problem_suggests_a_valid_one() -> None:
    assert "(e.g. 'prod-1')" in (stage_problem("Prod_1") or "")


def test_stage_problems_cover_the_names_the_stage_enters(tmp_path: Path) -> None:
    app = app_with(tmp_path, None)
    assert stage_problems(app, "prod") == []
    assert stage_problems(app, "Prod")[0].startswith("stage 'Prod'")
    (problem,) = stage_problems(app, "aws-test")  # shop-login-aws-test: Cognito refuses 'aws' in a prefix
    assert "lk.Cognito('shop-users'): its domain prefix would be 'shop-login-aws-test'" in problem


# -- the account check (moto's STS answers account 123456789012) ----------------------------------------


def test_credentials_for_the_stage_account_pass(moto_env: None) -> None:
    session = boto3.Session(region_name="us-east-1")
    assert check_account(session, StageSettings("prod", account="123456789012")) == "123456789012"
    assert check_account(session, StageSettings("dev")) == "123456789012"  # no account named: any


def test_credentials_for_another_account_are_refused_naming_both_and_the_profile(moto_env: None) -> None:
    session = boto3.Session(region_name="us-east-1")
    stage = StageSettings("prod", account="210987654321", profile="shop-prod", source=Path("deploy/shop.toml"))
    with pytest.raises(DeployError) as info:
        check_account(session, stage)
    message = str(info.value)
    assert "stage prod deploys to account 210987654321 (deploy/shop.toml [stages.prod])" in message
    assert "but the credentials are for account 123456789012" in message
    assert "sign in with the profile 'shop-prod'" in message
    no_profile = StageSettings("prod", account="210987654321", source=Path("deploy/shop.toml"))
    with pytest.raises(DeployError, match=r"set profile = under \[stages.prod\] in deploy/shop.toml"):
        check_account(session, no_profile)


# -- what is per stage in the template --------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, dict[str, Any]]:
    app = make_app(tmp_path_factory.mktemp("shop"), {"app.py": SERVICE})
    return app, build_template(app)


def test_every_main_template_declares_the_stage_and_says_it(shop: tuple[App, dict[str, Any]], tmp_path: Path) -> None:
    template = shop[1]
    stage = template["Parameters"]["Stage"]
    assert (stage["Type"], stage["Default"], stage["AllowedPattern"]) == ("String", "dev", STAGE_PATTERN)
    assert template["Outputs"]["Stage"]["Value"] == {"Ref": "Stage"}
    bare = build_template(make_app(tmp_path, {"app.py": ""}))
    assert bare["Parameters"]["Stage"] == stage  # even a service with nothing in it


def test_a_declared_cognito_domain_is_one_per_stage(shop: tuple[App, dict[str, Any]]) -> None:
    resources, outputs = shop[1]["Resources"], shop[1]["Outputs"]
    assert resources["ShopUsersUserPoolDomain"]["Properties"]["Domain"] == {"Fn::Sub": "shop-login-${Stage}"}
    assert {"Fn::Sub": "shop-login-${Stage}"} in outputs["ShopUsersUserPoolTokenUrl"]["Value"]["Fn::Join"][1]


def test_kept_data_is_deleted_only_by_a_failed_first_create(shop: tuple[App, dict[str, Any]]) -> None:
    resources = shop[1]["Resources"]
    for logical_id in ("OrdersTable", "ShopUsersUserPool"):
        kept = resources[logical_id]
        assert (kept["DeletionPolicy"], kept["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    # Cognito's own deletion protection would refuse the rollback's delete (ROLLBACK_FAILED)
    assert resources["ShopUsersUserPool"]["Properties"]["DeletionProtection"] == "INACTIVE"


def test_the_translator_and_cfn_lint_accept_the_stage_and_the_policies(shop: tuple[App, dict[str, Any]]) -> None:
    template = shop[1]
    transformed = transform(template)
    assert transformed["Resources"]["OrdersTable"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert transformed["Parameters"]["Stage"]["AllowedPattern"] == STAGE_PATTERN
    assert cfn_lint(template, "sam") + cfn_lint(transformed, "transformed") == []
