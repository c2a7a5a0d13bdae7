"""Store: the model directory, its typed schema, atomic saving and verified loading."""
