"""Staff console: jobs pages."""
