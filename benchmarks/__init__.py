"""toolwire benchmarks: scripts that compare toolwire side by side with its peers."""
