"""Agent inputs: where observations come from (log files, dnstap, packet capture)."""
