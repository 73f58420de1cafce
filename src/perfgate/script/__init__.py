"""The Artillery script language: model, loader, templates, conditions, processors."""
