"""Reports: one table model (_model.build_report), several renderers.

markdown.render_markdown, html.render_html, junit.render_junit,
_directory.write_report_directory; artillery_json writes REPORT.json.
"""
