"""Staff console: assignment pages."""
