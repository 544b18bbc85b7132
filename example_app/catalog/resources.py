"""The catalog's table, and the user pool its back-office clients get their access tokens from."""

import lambdakit as lk

products = lk.Table("products", key="sku")

# Machine clients only (client credentials, scope catalog/products.write): no one signs up.
clients = lk.Cognito("catalog-clients")
