"""Staff console: doctors pages."""
