DROP TABLE import_files;
DROP TABLE imports;
