"""Speech stages: audio conversion, endpointing, recognition (engines import lazily)."""
