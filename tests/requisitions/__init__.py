"""Tests of requisition documents, rendering, delivery and orders."""
