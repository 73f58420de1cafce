"""perfgate.yml: the project file (model, sections, reader) and the located YAML under it.

Other packages import from here only. :mod:`perfgate.script` reads Artillery
scripts with the same located YAML (line numbers, did-you-mean).
"""

from perfgate.config.placeholders import placeholders, substitute
from perfgate.config.project import (
    AbConfig,
    CompareConfig,
    GitHubConfig,
    MonitorConfig,
    ProfileConfig,
    ProjectConfig,
    ReadyConfig,
    ReportConfig,
    ServiceConfig,
    SloConfig,
    SloThresholds,
    StoreConfig,
    SuiteConfig,
    load_project,
    load_project_text,
)
from perfgate.config.yaml import (
    Located,
    child_path,
    describe_kind,
    load_yaml,
    load_yaml_text,
    suggest,
)

__all__ = [
    "AbConfig",
    "CompareConfig",
    "GitHubConfig",
    "Located",
    "MonitorConfig",
    "ProfileConfig",
    "ProjectConfig",
    "ReadyConfig",
    "ReportConfig",
    "ServiceConfig",
    "SloConfig",
    "SloThresholds",
    "StoreConfig",
    "SuiteConfig",
    "child_path",
    "describe_kind",
    "load_project",
    "load_project_text",
    "load_yaml",
    "load_yaml_text",
    "placeholders",
    "substitute",
    "suggest",
]
