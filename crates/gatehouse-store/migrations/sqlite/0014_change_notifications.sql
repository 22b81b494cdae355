-- PostgreSQL's 0020 makes the database notify every node of configuration changes. A SQLite
-- database serves one node: nothing to do (kept so both backends number alike).
SELECT 1;
