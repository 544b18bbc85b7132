"""The reviews service: what shoppers say of a product, on the shared domain api.example.com.

A service of the shop's own account, with its own stack, mounted by path on a domain several services
share (`base_path="reviews"`: https://api.example.com/reviews/products/{sku}/reviews). The domain's
certificate, API Gateway domain name and DNS records are in a stack of their own that lambdakit
deploys before the first service on it (docs/microservices.md); this stack holds only its mapping.
The shop's site mounts it at /api/reviews, through that domain.
"""

from typing import Annotated

from pydantic import BaseModel, Field

import lambdakit as lk

service = lk.Service("reviews", domain="api.example.com", base_path="reviews", throttle=(50, 100))
reviews = lk.Table("reviews", key="sku", sort_key="review_id")


class NewReview(BaseModel):
    stars: Annotated[int, Field(ge=1, le=5)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class Review(NewReview):
    sku: str
    review_id: str


@lk.route("GET", "/products/{sku}/reviews", reads=[reviews], auth=lk.PUBLIC, cache=30)
def product_reviews(sku: str) -> list[Review]:
    """A product's reviews, oldest first."""
    return [Review(**item) for item in reviews.query(sku=sku)]


@lk.route("POST", "/products/{sku}/reviews", writes=[reviews], auth=lk.PUBLIC, status=201)
def add_review(sku: str, body: NewReview) -> Review:
    """Anyone may review (the stage is throttled); a review is kept as written."""
    review = Review(sku=sku, review_id=lk.new_id(), **body.model_dump())
    reviews.put(review.model_dump())
    return review
