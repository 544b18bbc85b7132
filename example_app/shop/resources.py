"""The shop's tables, queue and user pool, declared once and imported by the modules that use them."""

import lambdakit as lk

orders = lk.Table("orders", key="order_id", indexes={"by_customer": ("customer_id", "created_at")})
customers = lk.Table("customers", key="customer_id", sort_key=("since", int), indexes={"by_email": "email"})
partners = lk.Table("partners", key="key_hash")  # partner keys, stored as SHA-256 hashes, never in clear
audit = lk.Queue("audit")

# Shop users sign in with their email. password_auth lets `aws cognito-idp initiate-auth` get a token
# from a shell (docs/auth.md); browsers use SRP, which the app client always allows.
users = lk.Cognito("shop-users", password_auth=True)
