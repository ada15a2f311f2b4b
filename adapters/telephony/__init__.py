"""Telephony capture: FRITZ!Box call monitor, Asterisk AMI, cloud PBX webhooks, caller lookup."""
