"""From answers to an outcome per pathway, with the history kept."""
