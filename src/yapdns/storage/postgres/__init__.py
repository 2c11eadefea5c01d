"""The PostgreSQL backend (psycopg 3 + psycopg_pool)."""
