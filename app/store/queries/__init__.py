"""The store's queries, one module per collection: every filter the rules select or change
documents by is written here once and named, so a rule reads as a rule."""
