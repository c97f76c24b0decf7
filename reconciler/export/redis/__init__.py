"""Export of a live Redis keyspace as key patterns with their TTL policies."""
