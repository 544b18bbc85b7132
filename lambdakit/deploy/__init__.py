"""`lambdakit deploy`, `diff` and `destroy`: lambdakit's own deploy, with boto3, of what `package` built.

One path for real AWS and for moto: the SAM transform is applied here (`transform.py`), so
CloudFormation receives a plain template. The steps, each its own module:

- `stages.py`: the stage's settings (deploy/SERVICE.toml), checked before anything touches AWS;
- `bucket.py`: the artifact bucket (private, encrypted, TLS-only, versioned) and the uploads;
- `transform.py`: the SAM transform, and a template too large to send inline uploaded;
- `changes.py`: the stack's state, a change set per stack, and what it would change;
- `review.py`: what the change does to IAM (per function) and to data, printed before asking;
- `events.py`: the stack's events while it runs, and the first failure when it fails;
- `orchestrate.py`: the order of the stacks and the whole deploy / diff;
- `destroy.py`: deleting a stage, keeping the data; `site.py`: the site's upload after the stacks.
"""

from __future__ import annotations

from lambdakit.deploy.errors import DeployError
from lambdakit.deploy.names import edge_stack_name, name_problems, stack_name
from lambdakit.deploy.site import (
    BUCKET_OUTPUT,
    DISTRIBUTION_OUTPUT,
    hosted_zone_id,
    publish_site,
    site_summary,
)

__all__ = [
    "BUCKET_OUTPUT",
    "DISTRIBUTION_OUTPUT",
    "DeployError",
    "edge_stack_name",
    "hosted_zone_id",
    "name_problems",
    "publish_site",
    "site_summary",
    "stack_name",
]
