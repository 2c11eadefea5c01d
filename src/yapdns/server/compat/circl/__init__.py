"""CIRCL Passive DNS: ``/pdns/query/<q>`` answered in COF with dribble paging."""
