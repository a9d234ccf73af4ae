"""Email channel gateway: SMTP/IMAP in, threading, auto-acknowledgement, replies out."""
