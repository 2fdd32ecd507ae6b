"""Twilio's webhooks: voice TwiML, gathers, call status, AMD, SMS status and inbound texts."""

from app.web.webhooks.routes import router

__all__ = ["router"]
