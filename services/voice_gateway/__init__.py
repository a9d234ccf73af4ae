"""Voice gateway: a SIP user agent server that turns phone calls into contacts."""
