"""The Textual dashboard. Importing it imports Textual: keep it off the fast CLI paths."""
