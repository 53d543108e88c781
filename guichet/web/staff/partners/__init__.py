"""Partner organisations of the territory, their users and API keys (admins)."""
