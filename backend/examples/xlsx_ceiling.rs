//! The ceiling of an XLSX roster export, for scripts/bench-stats.sh: the rows of a CSV file (as
//! `psql \copy … WITH (FORMAT csv, HEADER)` writes them) read into memory first, then written with
//! rust_xlsxwriter into a constant-memory worksheet, the way the export writes, with no database
//! and no HTTP. Only the writing is timed.
//!
//! `cargo run --release --example xlsx_ceiling -- ROWS.csv OUT.xlsx KINDS`
//! KINDS has one letter per column: `s` text, `d` a date (`YYYY-MM-DD`, written as an Excel date).
//! An empty field is left as an empty cell. Prints `rows seconds rows_per_second file_bytes`.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use rust_xlsxwriter::{Format, Workbook};

#[path = "common/roster_csv.rs"]
mod roster_csv;

use dangjian::exports::Cell;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, csv_path, out_path, kinds] = args.as_slice() else {
        return Err("usage: xlsx_ceiling ROWS.csv OUT.xlsx KINDS (one letter per column: s text, d date)".into());
    };
    // Read and convert everything before the clock starts: only the writing is measured.
    let roster_csv::Roster { header, rows } = roster_csv::read(csv_path, kinds)?;

    let start = Instant::now();
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name("花名册")?;
    for (c, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, name, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Date(d) => {
                    sheet.write_datetime_with_format(r, c, d, &date)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
            }
        }
    }
    workbook.save_to_writer(BufWriter::new(File::create(out_path)?))?;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(out_path)?.len();
    println!("{} {:.3} {:.0} {}", rows.len(), seconds, rows.len() as f64 / seconds, bytes);
    Ok(())
}
