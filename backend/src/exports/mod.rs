//! Streamed XLSX exports: a workbook written on a blocking thread in rust_xlsxwriter's
//! constant-memory mode into a channel that feeds the HTTP body, so memory stays flat however
//! many rows. The list modules (`members`, `orgs`) own their export routes and use this.
