"""Output, organised by audience: ``stream`` and ``machine`` write JSON, JSON Lines and CSV for
programs (never through Rich); ``layout``, ``wrap`` and ``sheets`` lay tables out for people and
``tables``, ``descent_tables``, ``batch_table`` and ``progress`` draw them with Rich; ``chart`` and
``plot`` draw the loss curve; ``numbers`` formats values for all of them."""
