"""Outgoing (SMTP, local folder) and incoming (IMAP) mail transport."""
