"""Pages the router serves outside /v1: the live ops page and the survey page."""
