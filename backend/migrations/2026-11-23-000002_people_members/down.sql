DROP TABLE member_history;
DROP TABLE members;
DROP FUNCTION member_history_track();
DROP TABLE people;
