"""Same-runner A/B: the run, its design (sizes, looks), the suite loop, the statistics."""
