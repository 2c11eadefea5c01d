"""One module per source format. The module name is the format name, and the module exports
``PARSER``: a ``LineParser`` or ``DocumentParser`` subclass (see ``base``)."""
