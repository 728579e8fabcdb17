"""SQL storage for complaintkit: SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy 2."""
