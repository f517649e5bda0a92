DROP TABLE code_lists;
