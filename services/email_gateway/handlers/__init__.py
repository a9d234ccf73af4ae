"""The email gateway's use cases as plain functions of (input, deps): accepting mail
safely (`intake`), and mail, routing events and agent replies (`mail`)."""
