-- ID numbers were masked as the first 3 and last 4 characters (110***********123X). With the
-- birth date, which the same roles see in the list, and the check digit, the region code left
-- about one candidate: the mask now keeps only the last 4 (members::id_number::mask), and the
-- stored masks are cut to match. Derived from the stored mask itself (its last 4 are the
-- number's), so no decryption is needed.
UPDATE people
   SET id_number_masked = repeat('*', char_length(id_number_masked) - 4) || right(id_number_masked, 4)
 WHERE id_number_masked IS NOT NULL AND char_length(id_number_masked) > 8
   AND id_number_masked <> repeat('*', char_length(id_number_masked) - 4) || right(id_number_masked, 4);

UPDATE people
   SET id_number_masked = repeat('*', char_length(id_number_masked))
 WHERE id_number_masked IS NOT NULL AND char_length(id_number_masked) <= 8 AND id_number_masked ~ '[^*]';

-- And from now on the database itself refuses a mask that shows more than the last four, from
-- any writer (the API, imports, sync and generators all mask through members::id_number::mask).
ALTER TABLE people ADD CONSTRAINT people_id_number_masked_last_four
    CHECK (id_number_masked IS NULL OR id_number_masked ~ '^[*]*[0-9Xx]{0,4}$');
