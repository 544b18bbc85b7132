"""What ships to Lambda: the entry point, request binding, batch processing and data handles."""
