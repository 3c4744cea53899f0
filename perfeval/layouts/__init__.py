"""Readers for published table layouts that are not perfeval's own workbook format."""
