"""SIP request and routing event handlers: plain functions taking their dependencies."""
