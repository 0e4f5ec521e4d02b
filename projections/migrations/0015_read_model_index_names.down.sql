-- Nothing to undo: the names this migration restores are the ones 0001 to 0014 gave.
SELECT 1;
