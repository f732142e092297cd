"""Models and Providers: the dialog and its tabs."""
