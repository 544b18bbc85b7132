"""The catalog service: the products, on a custom domain of its own, in an account of its own.

Reads are public and cached at API Gateway for 60 s; writes come from back-office systems holding
the `catalog/products.write` scope (an access token from the catalog's own user pool, client
credentials). The API answers at https://catalog.example.com/ (a Regional custom domain: its
certificate and DNS records are in this stack); the shop's site mounts it at /api/catalog, on the
site's one origin, through that domain, so the two services can live in different accounts
(deploy/catalog.toml, deploy/shop.toml).
"""

import lambdakit as lk

service = lk.Service("catalog", domain="catalog.example.com", throttle=(200, 400))
