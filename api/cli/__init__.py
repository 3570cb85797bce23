"""The command line (``minseal …``): parses, calls a use case from ``api.services``, prints. ``main`` is in
``api.cli.main``; one module per command group."""
