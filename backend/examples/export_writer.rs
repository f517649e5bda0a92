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

#[path = "common/roster_csv.rs"]
mod roster_csv;

use dangjian::exports::{Column, SHEET_DEFLATE_LEVEL, SheetSpec, write_workbook};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (csv_path, out_path, kinds, level) = match args.as_slice() {
        [_, c, o, k] => (c, o, k, SHEET_DEFLATE_LEVEL),
        [_, c, o, k, l] => (c, o, k, l.parse()?),
        _ => return Err("usage: export_writer ROWS.csv OUT.xlsx KINDS [LEVEL]".into()),
    };
    let roster_csv::Roster { header, rows } = roster_csv::read(csv_path, kinds)?;
    // The spec's labels must live as long as the program: leaked once, a few bytes.
    let columns: Vec<Column> = header.into_iter().map(|h| Column { key: "c", label: Box::leak(h.into_boxed_str()), width: 12.0 }).collect();
    let spec = SheetSpec {
        sheet_name: "花名册".into(),
        title: "花名册".into(),
        columns,
        exported_by: "bench".into(),
        exported_at: chrono::Local::now().fixed_offset(),
    };

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
