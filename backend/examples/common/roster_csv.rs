//! The input both writer benchmarks read (`xlsx_ceiling`, `export_writer`): a CSV file as
//! `psql \copy … WITH (FORMAT csv, HEADER)` writes it, converted into cells before the clock
//! starts. KINDS has one letter per column: `s` text, `d` a date (`YYYY-MM-DD`); an empty field
//! is an empty cell.

use std::error::Error;

use chrono::NaiveDate;
use dangjian::exports::Cell;

pub struct Roster {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The header and the rows of `path`.
pub fn read(path: &str, kinds: &str) -> Result<Roster, Box<dyn Error>> {
    let kinds: Vec<char> = kinds.chars().collect();
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_path(path)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    if header.len() != kinds.len() {
        return Err(format!("{} columns in the file, {} kinds given", header.len(), kinds.len()).into());
    }
    let mut rows = Vec::new();
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
    Ok(Roster { header, rows })
}
