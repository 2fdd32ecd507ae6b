"""The validation cycle: rounds per pathway, rolling schedules and the daily selection."""
