"""``python -m api.cli`` runs ``minseal``."""

from api.cli.entry import main

raise SystemExit(main())
