"""Requisition documents per language, rendering to PDF, delivery by e-mail, acknowledgements."""
