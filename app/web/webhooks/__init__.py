"""Providers' webhooks: Twilio's (voice TwiML, gathers, call and SMS status, inbound texts) and
GOV.UK Notify's (delivery receipts, received texts)."""

from app.web.webhooks.notify import router as notify_router
from app.web.webhooks.routes import router

__all__ = ["notify_router", "router"]
