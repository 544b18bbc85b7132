"""Customers, click tracking through Kinesis, and the audit trail consumer."""

from typing import Any

import lambdakit as lk

from .models import Click
from .resources import audit, customers


@lk.route("GET", "/customers", reads=[customers])
def find_customer(email: str) -> list[dict[str, Any]]:
    return customers.query(index="by_email", email=email)


@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="customer_id"), writes=[customers])
def record_click(body: Click) -> None:
    customers.update({"customer_id": body.customer_id, "since": 0}, {"last_page": body.page})


@lk.consume(audit, writes=[customers])
def log_audit(message: dict[str, Any]) -> None:
    customer = message.get("customer")
    if customer:
        customers.update({"customer_id": customer, "since": 0}, {"last_event": message["event"]})
