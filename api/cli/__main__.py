"""``python -m api.cli`` runs ``minseal``."""

from api.cli.main import main

raise SystemExit(main())
