"""Rule- and gazetteer-based entity extraction on spaCy."""
