"""People and service accounts: passwords, sign-in with throttling, sessions and API tokens."""
