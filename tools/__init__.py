"""Development tools of the repository (not shipped): the import contracts `make lint` checks."""
