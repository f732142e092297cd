"""Folio's own view of a cited file: the PDF at the cited page, or the file's text as the
library read it, with the passage highlighted; the system's app stays one button away."""
