"""Talking to the telephone network: the Provider protocol, Twilio, and the simulator.

This package takes and returns plain data and imports no domain package; only it imports twilio.
"""
