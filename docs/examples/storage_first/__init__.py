"""docs/storage-first.md: API Gateway stores the request in SQS or Kinesis; the function consumes it."""

from pydantic import BaseModel, Field

import lambdakit as lk

orders = lk.Table("orders", key="order_id")


class NewOrder(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    qty: int = Field(gt=0, le=1000)


# SQS: at most once per message, in any order; failures go to a dead-letter queue.
@lk.route("POST", "/orders/import", trigger="sqs", writes=[orders])
def import_order(body: NewOrder) -> None:
    orders.put({"order_id": lk.new_id(), **body.model_dump()})


class Click(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    page: str


# Kinesis: ordered per partition key (here the customer); failures are described in an on-failure queue.
@lk.route("POST", "/clicks", trigger=lk.kinesis(partition_key="customer_id"))
def record_click(body: Click) -> None:
    print(f"{body.customer_id} viewed {body.page}")


# A queue that other functions feed with `audit.send(...)`, and its consumer.
audit = lk.Queue("audit", max_receive=5)


@lk.consume(audit, writes=[orders], batch_size=10, idempotent=True)
def log_audit(message: dict) -> None:
    orders.put({"order_id": f"audit-{lk.new_id()}", **message})
