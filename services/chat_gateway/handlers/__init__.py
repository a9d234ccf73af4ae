"""The chat gateway's use cases as plain functions of (input, deps): routing and
message events for its conversations (`events`), and what a customer does
(`conversations`)."""
