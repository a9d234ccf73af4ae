"""The voice gateway's use cases as plain functions of (input, deps): setting calls up
and tearing them down (`calls`, `teardown`), the IVR (`ivr`), in-dialog requests
(`dialog`) and the transfer to the agent (`transfer`)."""
