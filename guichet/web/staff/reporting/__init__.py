"""Staff console: reporting pages."""
