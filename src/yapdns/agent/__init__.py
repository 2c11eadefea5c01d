"""The collector: prospector → harvester → parser → aggregator → spool → shipper."""
