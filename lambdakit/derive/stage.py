"""The stage name rule, and the `Stage` parameter every main template declares.

A template is built once and deployed per stage: the stage reaches it as the
`Stage` parameter, which deploy fills. Stage names enter names AWS restricts
more than stack names: Cognito domain prefixes (`DOMAIN-STAGE`: lower case,
at most 63 characters, unique per region across all accounts) and bucket-like
names (lower case, at most 63). So a stage is lower-case letters, digits and
'-', starts with a letter, does not end with '-', and is at most 20 characters:
short enough that a declared Cognito prefix of up to 42 characters still fits.
"""

from __future__ import annotations

import re
from typing import Any

STAGE_PARAMETER = "Stage"
DEFAULT_STAGE = "dev"
MAX_STAGE_LENGTH = 20
#: The rule, as CloudFormation's AllowedPattern and as the check deploy runs before anything else.
STAGE_PATTERN = rf"^[a-z](?:[a-z0-9-]{{0,{MAX_STAGE_LENGTH - 2}}}[a-z0-9])?$"
STAGE_RULE = (
    f"lower-case letters, digits and '-', starting with a letter, not ending with '-', "
    f"at most {MAX_STAGE_LENGTH} characters"
)


def stage_problem(stage: object) -> str | None:
    """Why AWS would refuse names built from `stage`, or None when it is a valid stage name."""
    if isinstance(stage, str) and re.fullmatch(STAGE_PATTERN, stage):
        return None
    hint = ""
    if isinstance(stage, str):
        lowered = re.sub(r"[^a-z0-9-]+", "-", stage.lower()).strip("-")[:MAX_STAGE_LENGTH].rstrip("-")
        if lowered and lowered[0].isalpha() and lowered != stage:
            hint = f" (e.g. {lowered!r})"
    return f"stage {stage!r}: a stage name is {STAGE_RULE}{hint}"


def stage_parameter() -> dict[str, Any]:
    """The main template's `Stage` parameter: deploy passes `--stage`; names that must differ per stage use it."""
    return {
        "Type": "String",
        "Default": DEFAULT_STAGE,
        "AllowedPattern": STAGE_PATTERN,
        "ConstraintDescription": f"a stage name is {STAGE_RULE}",
        "Description": "The stage this stack is (its stack is SERVICE-STAGE); lambdakit deploy passes --stage",
    }


#: How the data a stage keeps is held: deleting the stack (`lambdakit destroy`) or replacing the resource
#: keeps it, but a first create that fails and rolls back deletes it, so a failed first deploy leaves
#: nothing billed behind (`Retain` would keep orphaned tables and pools; CloudFormation's own default).
KEPT: dict[str, str] = {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
