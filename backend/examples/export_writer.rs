//! The export's own writer (`dangjian::exports::write_workbook`, the streamed package) on the
//! same input as `xlsx_ceiling`, to compare rows/s: the rows of a CSV file read into memory
//! first, then written into a file with no database and no HTTP. Only the writing is timed.
//!
//! `cargo run --release --example export_writer -- ROWS.csv OUT.xlsx KINDS [LEVEL]`
//! KINDS has one letter per column: `s` text, `d` a date (`YYYY-MM-DD`). LEVEL is the sheet's
//! deflate level (default: the export's). Prints `rows seconds rows_per_second file_bytes`.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use chrono::NaiveDate;
use dangjian::exports::{Cell, Column, SHEET_DEFLATE_LEVEL, SheetSpec, write_workbook};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (csv_path, out_path, kinds, level) = match args.as_slice() {
        [_, c, o, k] => (c, o, k, SHEET_DEFLATE_LEVEL),
        [_, c, o, k, l] => (c, o, k, l.parse()?),
        _ => return Err("usage: export_writer ROWS.csv OUT.xlsx KINDS [LEVEL]".into()),
    };
    let kinds: Vec<char> = kinds.chars().collect();
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_path(csv_path)?;
    // The spec's labels must live as long as the program: leaked once, a few bytes.
    let columns: Vec<Column> = reader.headers()?.iter().map(|h| Column { key: "c", label: Box::leak(h.to_string().into_boxed_str()), width: 12.0 }).collect();
    if columns.len() != kinds.len() {
        return Err(format!("{} columns in the file, {} kinds given", columns.len(), kinds.len()).into());
    }
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for record in reader.records() {
        let record = record?;
        let mut row = Vec::with_capacity(kinds.len());
        for (field, kind) in record.iter().zip(&kinds) {
            row.push(match (field, kind) {
                ("", _) => Cell::Empty,
                (f, 'd') => Cell::Date(NaiveDate::parse_from_str(f, "%Y-%m-%d")?),
                (f, _) => Cell::Text(f.to_string()),
            });
        }
        rows.push(row);
    }
    let spec = SheetSpec { sheet_name: "花名册".into(), title: "花名册".into(), columns, exported_by: "bench".into(), exported_at: chrono::Local::now() };

    let start = Instant::now();
    let out = write_workbook(&spec, BufWriter::new(File::create(out_path)?), level, |sheet| {
        for row in &rows {
            sheet.push(row)?;
        }
        Ok(())
    })?;
    drop(out);
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(out_path)?.len();
    println!("{} {:.3} {:.0} {}", rows.len(), seconds, rows.len() as f64 / seconds, bytes);
    Ok(())
}
