"""Reporting: the figures a CPTS reports to the CPAM and the ARS (ACI indicators)."""
