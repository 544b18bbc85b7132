"""The shop's tables, queue and stream, declared once and imported by the modules that use them."""

import lambdakit as lk

products = lk.Table("products", key="sku")
orders = lk.Table("orders", key="order_id", indexes={"by_customer": ("customer_id", "created_at")})
customers = lk.Table("customers", key="customer_id", sort_key=("since", int), indexes={"by_email": "email"})
audit = lk.Queue("audit")
