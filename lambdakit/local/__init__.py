"""Running an app on this machine: moto, the API Gateway emulation, consumers, and IAM held locally."""
