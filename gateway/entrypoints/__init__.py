"""Entry points: the web app factory, the command line and the worker; thin shells over the core."""
