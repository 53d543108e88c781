"""Staff console: admin pages."""
