"""The shop service: a catalogue, orders, customers, and storage-first imports and click tracking."""

import lambdakit as lk

service = lk.Service("shop", throttle=(100, 200))
