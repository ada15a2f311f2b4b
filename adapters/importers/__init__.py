"""Importing contacts from the files firms have: CSV and XLSX exports, vCard address books."""
