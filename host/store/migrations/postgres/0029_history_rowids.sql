-- SQLite's 0029 numbers an event's history and steps without AUTOINCREMENT, so a claim or an answer does not rewrite
-- its sqlite_sequence page. Postgres numbers them with its sequences as before; this keeps the two backends'
-- migrations numbered alike.
SELECT 1;
