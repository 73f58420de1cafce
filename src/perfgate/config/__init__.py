"""Config files: Artillery scripts, bench suites and perfgate.yml."""
