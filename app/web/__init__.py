"""Everything HTTP: the JSON API, Twilio webhooks and the server-rendered pages."""
