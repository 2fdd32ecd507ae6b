"""Campaigns: planning contact attempts and dispatching them to the telephony provider."""
