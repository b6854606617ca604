"""Sequential testing: mSPRT always-valid inference and group-sequential boundaries."""
