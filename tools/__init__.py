"""Operator tools run beside the services (`python -m tools.<name>`)."""
