"""The router's pure core: messages, records, errors, and the ops figures."""

SOURCE = "omniroute/router"  # the CloudEvents source of every event the router makes
