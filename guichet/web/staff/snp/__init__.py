"""Staff console: snp pages."""
