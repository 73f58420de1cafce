"""Config files: perfgate.yml (project, sections, reader) and the located YAML under it."""
