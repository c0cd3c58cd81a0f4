"""Run directories: the schema, the writer, the strict reader and the statistics of a point."""
