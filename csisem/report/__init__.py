"""Reports of a PLS fit: one self-contained HTML file, and every table in an Excel workbook.

- :func:`html_report` / :func:`write_html`: an HTML5 document with the model and data
  summary, the path diagram, the measurement model (loadings, reliability, HTMT, Fornell-
  Larcker, VIF), the structural model (paths, R², f², effects), model fit (SRMR, d_ULS, d_G,
  GoF, Q²), 0-100 index scores and impacts, and the importance-performance map of a target
  construct. CSS is inline and the figures are inline SVG; there is no script and no external
  resource (font, image, stylesheet), so the file opens offline and can be mailed as is.
  Every user-supplied string (titles, citations, labels, wording, names) is HTML-escaped.
- :func:`write_excel`: one sheet per result table plus a README sheet (needs openpyxl, the
  ``excel`` extra).

From the command line: ``csisem report ecsi --data mobi -o report.html --excel report.xlsx``.

Testing in a browser: ``tests/test_report.py`` has a test marked ``browser`` that renders the
report with headless Chromium and checks that the screenshot is not blank. It is skipped
unless a ``chromium`` executable is on PATH (Debian/Ubuntu: ``apt-get install chromium``).
Run it, and only it, with ``pytest -m browser tests/test_report.py``.
"""

from .document import default_target, html_report, write_html
from .excel import write_excel

__all__ = ["default_target", "html_report", "write_excel", "write_html"]
