"""Stage settings (`deploy/SERVICE.toml`), the stage name rule and the account check: what deploy knows first.

A project keeps, beside its code, one file per service naming each stage's
account, region, profile, domains and template parameters. Deploy reads it
before anything else: a stage name AWS would refuse, a typo in the file, or
credentials for another account stop it before it touches AWS. With no file,
a stage deploys with the current credentials and region. With a file, a stage
it does not name is refused (a typo'd `prd` must not become a new stack in the
production account); `[stages."*"]` gives the settings of every other stage.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.declare.app import App
from lambdakit.deploy.errors import DeployError
from lambdakit.deploy.names import name_problems
from lambdakit.derive.stage import STAGE_PARAMETER, stage_problem

#: The folder of the project root that holds the settings files.
SETTINGS_FOLDER = "deploy"
#: The table whose settings every stage the file does not name gets.
ANY_STAGE = "*"
KEYS = ("account", "region", "profile", "domain", "site_domain", "parameters")
#: Template parameters deploy fills itself: the stage from --stage, the domains from domain=/site_domain=.
FILLED_BY_DEPLOY = {STAGE_PARAMETER: "--stage", "ApiDomainName": "domain =", "SiteDomainName": "site_domain ="}

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2,4}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class StageSettings:
    """One stage's settings; None where the file says nothing (deploy then uses the current credentials')."""

    stage: str
    account: str | None = None
    region: str | None = None
    profile: str | None = None
    domain: str | None = None  # overrides lk.Service(domain=) for this stage
    site_domain: str | None = None  # overrides lk.Frontend(domain=) for this stage
    parameters: dict[str, str] = field(default_factory=dict)
    source: Path | None = None  # the file they come from; None: no file names this service
    table: str | None = None  # the file's table they come from: the stage's own, or "*"

    @property
    def where(self) -> str:
        """`deploy/shop.toml [stages.prod]`, for messages."""
        return f"{self.source} {_table(self.table or self.stage)}" if self.source is not None else "no settings file"


# -- finding the file -------------------------------------------------------------------------------------


def project_root(app: App) -> Path | None:
    """The nearest folder at or above the one holding the service's top-level package with `deploy/` or a
    pyproject.toml in it; None for a package that is not a file (nothing to find settings beside)."""
    import importlib

    top = app.package.split(".")[0]
    origin = getattr(importlib.import_module(top), "__file__", None)
    if not origin:
        return None
    path = Path(origin).resolve()
    start = path.parent.parent if path.name == "__init__.py" else path.parent
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FOLDER).is_dir() or (folder / "pyproject.toml").is_file():
            return folder
    return None


def settings_file(app: App) -> Path | None:
    """`ROOT/deploy/SERVICE.toml` when it exists."""
    root = project_root(app)
    if root is None:
        return None
    path = root / SETTINGS_FOLDER / f"{app.service.name}.toml"
    return path if path.is_file() else None


# -- reading it --------------------------------------------------------------------------------------------


def settings(app: App, stage: str) -> StageSettings:
    """The settings of `stage` of `app`'s service; a DeployError naming the file and the fix for any mistake."""
    path = settings_file(app)
    if path is None:
        return StageSettings(stage)
    return read(path, stage)


def read(path: Path, stage: str) -> StageSettings:
    """The settings of `stage` in the file at `path` (every stage in it is checked, so a typo shows at once)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeployError(f"{path}: not valid TOML ({exc}); fix the file") from None
    problems = [f"{path}: unknown key {key!r}{_suggest(key, ('stages',))}" for key in data if key != "stages"]
    stages = data.get("stages", {})
    if not isinstance(stages, dict) or not stages:
        problems.append(f'{path}: no stages; name each one in a table: [stages.prod] then account = "123456789012"')
        stages = {}
    found = {}
    for name, table in stages.items():
        where = f"{path} {_table(name)}"
        if name != ANY_STAGE and stage_problem(name) is not None:
            problems.append(f"{where}: {stage_problem(name)}")
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: a stage is a table of settings ([stages.{name}] then account = ...)")
            continue
        entry, wrong = _stage(where, name, table)
        problems += wrong
        found[name] = entry
    if problems:
        raise DeployError("\n".join(problems))
    for table in (stage, ANY_STAGE):
        if table in found:
            return StageSettings(stage, source=path, table=table, **found[table])
    known = ", ".join(sorted(found))
    raise DeployError(
        f"{path} names the stages {known}, not {stage!r}{_suggest(stage, tuple(found))}; deploy a stage it "
        f'names, or add it: [stages.{stage}] then account = "123456789012" (and region =); '
        f'[stages."*"] gives the settings of every stage the file does not name'
    )


def _stage(where: str, name: str, table: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One stage's table: its settings, and what is wrong with them."""
    problems = [f"{where}: unknown key {key!r}{_suggest(key, KEYS)}" for key in table if key not in KEYS]
    entry: dict[str, Any] = {}
    account = table.get("account")
    if account is None:
        problems.append(
            f'{where}: account = "123456789012" is required: deploy refuses credentials of any other account'
        )
    elif isinstance(account, int) and not isinstance(account, bool):
        problems.append(
            f'{where}: account = {account}: quote it (account = "{account:012d}"), as accounts may start with 0'
        )
    elif not isinstance(account, str) or not _ACCOUNT.match(account):
        problems.append(f"{where}: account = {account!r} is not an AWS account id: 12 digits, in quotes")
    else:
        entry["account"] = account
    region = table.get("region")
    if region is not None:
        if isinstance(region, str) and _REGION.match(region):
            entry["region"] = region
        else:
            problems.append(f'{where}: region = {region!r} is not an AWS region name (e.g. "eu-west-1")')
    for key, pattern, example in (
        ("profile", None, '"shop-prod"'),
        ("domain", _DOMAIN, '"api.example.com"'),
        ("site_domain", _DOMAIN, '"www.example.com"'),
    ):
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value and (pattern is None or pattern.match(value)):
            entry[key] = value
        else:
            what = "a profile name" if pattern is None else "a lower-case domain name"
            problems.append(f"{where}: {key} = {value!r} is not {what} (e.g. {key} = {example})")
    parameters = table.get("parameters", {})
    if not isinstance(parameters, dict):
        problems.append(f'{where}: parameters is a table: [stages.{name}.parameters] then Name = "value"')
    else:
        for key, value in parameters.items():
            if not isinstance(value, str):
                problems.append(
                    f"{where}: parameters.{key} = {value!r}: CloudFormation parameters are strings; "
                    f'quote it ({key} = "{_plain(value)}")'
                )
            elif key in FILLED_BY_DEPLOY:
                problems.append(f"{where}: parameters.{key}: deploy sets it from {FILLED_BY_DEPLOY[key]}; remove it")
        entry["parameters"] = {k: v for k, v in parameters.items() if isinstance(v, str)}
    return entry, problems


def unknown_parameters(settings: StageSettings, template: dict[str, Any]) -> list[str]:
    """The stage's parameters the template does not declare (a typo, or one a later build dropped)."""
    declared = template.get("Parameters", {})
    settable = sorted(name for name in declared if name not in FILLED_BY_DEPLOY)
    return [
        f"{settings.where}: parameters.{name}: the template declares no parameter {name!r}"
        f"{_suggest(name, tuple(settable))}; it declares {', '.join(settable) or 'none you set'}"
        for name in settings.parameters
        if name not in declared
    ]


def parameter_values(found: StageSettings, template: dict[str, Any]) -> dict[str, str]:
    """The template parameters the stage's settings fill: `Stage`, the domains, `[stages.S.parameters]`.

    A DeployError for a parameter the template does not declare, or a domain override of a domain the
    service does not declare (the template has no parameter to take it)."""
    declared = template.get("Parameters", {})
    problems = unknown_parameters(found, template)
    values: dict[str, str] = {STAGE_PARAMETER: found.stage} if STAGE_PARAMETER in declared else {}
    for key, parameter, option in (
        ("domain", "ApiDomainName", "lk.Service(domain=)"),
        ("site_domain", "SiteDomainName", "lk.Frontend(domain=)"),
    ):
        value = getattr(found, key)
        if value is None:
            continue
        if parameter in declared:
            values[parameter] = value
        else:
            problems.append(f"{found.where}: {key} = {value!r} overrides {option}, which the service does not declare")
    if problems:
        raise DeployError("\n".join(problems))
    return {**values, **found.parameters}


def _table(name: str) -> str:
    return f'[stages."{name}"]' if name == ANY_STAGE else f"[stages.{name}]"


def _suggest(word: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _plain(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# -- the stage name ---------------------------------------------------------------------------------------


def stage_problems(app: App, stage: str) -> list[str]:
    """Stage names AWS would refuse once the names built from them are known: checked before anything else."""
    problem = stage_problem(stage)
    if problem is not None:  # a valid stage (and service) name makes a valid stack name of at most 69 characters
        return [problem]
    problems = name_problems(app, stage)  # the site's CloudFront names, built from the stack name
    for pool in app.pools:
        if pool.arn is None and pool.domain:
            prefix = f"{pool.domain}-{stage}"
            if len(prefix) > 63 or any(word in prefix for word in ("aws", "amazon", "cognito")):
                problems.append(
                    f"lk.Cognito({pool.name!r}): its domain prefix would be {prefix!r} (DOMAIN-STAGE): Cognito "
                    "takes at most 63 characters, without 'aws', 'amazon' or 'cognito'; pick another stage name"
                )
    return problems


# -- the account ------------------------------------------------------------------------------------------


def resolve(found: StageSettings, region: str | None = None, profile: str | None = None) -> StageSettings:
    """The settings with the command line's --region and --profile; a --region the file contradicts is refused
    (a stage lives in one region), a --profile is taken (the account check decides whether it fits)."""
    from dataclasses import replace

    if region is not None and found.region is not None and region != found.region:
        raise DeployError(
            f"{found.where}: the stage is in {found.region}, --region says {region}; drop --region, or change "
            "region = in the file"
        )
    return replace(found, region=region or found.region, profile=profile or found.profile)


def session_of(found: StageSettings) -> Any:
    """A boto3 session with the stage's profile and region (None: the environment's)."""
    import boto3

    return boto3.Session(profile_name=found.profile, region_name=found.region)


def check_account(session: Any, found: StageSettings) -> str:
    """The account the session's credentials are for; a DeployError when the stage names another one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"stage {found.stage}: no usable AWS credentials ({exc}); {_how_to_sign_in(found)}") from None
    account = str(identity["Account"])
    if found.account is not None and account != found.account:
        raise DeployError(
            f"stage {found.stage} deploys to account {found.account} ({found.where}), but the credentials are "
            f"for account {account} ({identity.get('Arn', 'unknown identity')}); {_how_to_sign_in(found)}"
        )
    return account


def _how_to_sign_in(found: StageSettings) -> str:
    account = f"account {found.account}" if found.account else "the stage's account"
    if found.profile:
        return f"sign in with the profile {found.profile!r} (aws sso login --profile {found.profile}) for {account}"
    where = f"profile = under {_table(found.table or found.stage)} in {found.source}" if found.source else "AWS_PROFILE"
    return f"use credentials for {account}: --profile NAME, or set {where}"
