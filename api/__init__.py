"""The MinSeal service: settings, storage, workflow, HTTP and CLI. Depends on ``signer`` and ``templates``."""
