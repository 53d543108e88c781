"""Staff console: requests pages."""
