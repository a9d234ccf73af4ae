"""Omniroute shared library: event contracts, Kafka/Redis plumbing, settings, logging."""
