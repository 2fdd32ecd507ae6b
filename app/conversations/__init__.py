"""What Twilio's webhooks do to contact attempts: status, conversations, texts and opt-outs."""
