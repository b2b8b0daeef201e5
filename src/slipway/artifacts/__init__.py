"""Build, verify and load artifacts; one module per model flavor under ``flavors``."""
