//! Streamed XLSX exports: a workbook written on a blocking thread into a channel that feeds the
//! HTTP body as it is written, so the first bytes leave after the first rows and memory stays
//! flat however many rows. The list modules (`members`, `orgs`) own their export routes and use
//! this.
//!
//! The pipeline of one export, three parts joined by bounded channels:
//!
//! ```text
//! fetch task (async, one connection)  --batches of rows (2)-->  writer (blocking thread)
//!     keyset pages of the list order,                              renders cells (decrypts),
//!     one read-only snapshot                                       rows as sheet XML, deflated
//!                                                                  into the zip as they come
//! HTTP body  <--chunks of 64 KB (4)--  ChannelWriter (std::io::Write)  <--+
//! ```
//!
//! Each channel holds a few items, so a fast database waits for the writer and a slow client
//! holds the writer back: memory is a few batches and chunks, whatever the row count. The zip is
//! written front to back with data descriptors (`package`): the parts rust_xlsxwriter made for
//! a small shell workbook (styles, page setup, watermark, header row), then the sheet, whose rows
//! are deflated as they arrive, so the body's first chunk leaves once 64 KB of it are compressed,
//! long before the last row is read. A client that goes away closes the body channel; the
//! writer's next write fails, the fetch task's next send fails, and the audit entry says the
//! export was aborted.

use std::io::{self, Write};

use actix_web::web::Bytes;
use chrono::NaiveDate;
use futures_util::Stream;
use rust_xlsxwriter::XlsxError;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::audit::{self, By};
use crate::auth::Actor;
use crate::error::{AppError, FieldError};
use crate::{AppState, db};

mod package;

pub use package::{SHEET_DEFLATE_LEVEL, SheetRows, write_workbook};

pub use crate::http::{XLSX_TYPE, attachment};

/// Rows the fetch task reads per query; the writer holds at most [`BATCHES_IN_FLIGHT`] of them.
pub const BATCH_ROWS: i64 = 1_000;
const BATCHES_IN_FLIGHT: usize = 2;
/// Bytes per body chunk, and chunks buffered between the writer and the client.
const CHUNK_BYTES: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

/// One column a caller may choose: its stable key (the API field's name), its Chinese header,
/// and its width in characters.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub width: f64,
}

/// A column of an export, for the SPA's column chooser.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"key": "name", "label": "姓名"}))]
pub struct ExportColumn {
    pub key: &'static str,
    pub label: &'static str,
}

pub fn describe(all: &[Column]) -> Vec<ExportColumn> {
    all.iter().map(|c| ExportColumn { key: c.key, label: c.label }).collect()
}

/// The columns asked for (`columns=name,gender,...`, in the caller's order), or all of them.
/// An unknown or repeated key answers 422 naming `columns`.
pub fn choose(all: &[Column], requested: Option<&str>) -> Result<Vec<Column>, AppError> {
    let Some(text) = requested.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(all.to_vec());
    };
    let mut chosen: Vec<Column> = Vec::new();
    for key in text.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let Some(c) = all.iter().find(|c| c.key == key) else {
            let known = all.iter().map(|c| c.key).collect::<Vec<_>>().join(", ");
            return Err(AppError::validation(vec![FieldError::new(
                "columns",
                "unknown_column",
                format!("unknown column {key:?}; known: {known}"),
                format!("无法识别的导出列“{key}”"),
            )]));
        };
        if chosen.iter().any(|x| x.key == key) {
            return Err(AppError::validation(vec![FieldError::new(
                "columns",
                "duplicate_column",
                format!("column {key:?} is asked for twice"),
                format!("导出列“{key}”重复"),
            )]));
        }
        chosen.push(*c);
    }
    if chosen.is_empty() {
        return Err(AppError::validation(vec![FieldError::new("columns", "required", "name at least one column", "请至少选择一列")]));
    }
    Ok(chosen)
}

/// One cell's value; the writer picks the cell type (dates are date cells).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Date(NaiveDate),
    Number(f64),
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(v: Option<NaiveDate>) -> Cell {
        v.map_or(Cell::Empty, Cell::Date)
    }
}

pub fn yes_no(v: bool) -> Cell {
    Cell::Text(if v { "是" } else { "否" }.into())
}

/// The sheet: its name, the chosen columns and the watermark (docs/domain.md, Confidentiality:
/// exports carry who exported them and when).
#[derive(Debug, Clone)]
pub struct SheetSpec {
    pub sheet_name: String,
    pub title: String,
    pub columns: Vec<Column>,
    pub exported_by: String,
    pub exported_at: chrono::DateTime<chrono::FixedOffset>,
}

impl SheetSpec {
    pub fn watermark(&self) -> String {
        format!("内部资料 · {} 导出于 {}", self.exported_by, self.exported_at.format("%Y-%m-%d %H:%M"))
    }
}

/// A `std::io::Write` that hands the bytes to the HTTP body in chunks, waiting (on its blocking
/// thread) while the body's channel is full. A closed channel (the client went away) is a
/// `BrokenPipe` error, which ends the workbook's save.
pub struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
    pub sent: u64,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Result<Bytes, io::Error>>) -> Self {
        ChannelWriter { tx, buf: Vec::with_capacity(CHUNK_BYTES), sent: 0 }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES)));
        self.sent += chunk.len() as u64;
        self.tx.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client stopped reading the export"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    /// The zip writer flushes often; only a full chunk (or the end) goes out.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How an export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every row was written and the whole file sent.
    Completed { rows: u64, bytes: u64 },
    /// The client went away (or the server failed) before the end.
    Aborted { rows: u64, reason: String },
}

impl Outcome {
    pub fn rows(&self) -> u64 {
        match self {
            Outcome::Completed { rows, .. } | Outcome::Aborted { rows, .. } => *rows,
        }
    }
}

enum Batch<R> {
    Rows(Vec<R>),
    /// The fetch failed: the writer stops without saving and the body ends with an error, so
    /// the client never takes a truncated file for a whole one.
    Failed,
}

/// The running export, as the fetch task sees it.
pub struct Export<R> {
    rows: mpsc::Sender<Batch<R>>,
    writer: tokio::task::JoinHandle<Outcome>,
}

impl<R: Send + 'static> Export<R> {
    /// Starts the writer thread; answers the export and the HTTP body to stream. `render` turns
    /// one row into the chosen columns' cells, on the writer thread (so decryption is off the
    /// async threads too).
    pub fn start(
        spec: SheetSpec,
        mut render: impl FnMut(R, &[Column], &mut Vec<Cell>) + Send + 'static,
    ) -> (Export<R>, impl Stream<Item = Result<Bytes, io::Error>> + 'static) {
        let (rows_tx, mut rows_rx) = mpsc::channel::<Batch<R>>(BATCHES_IN_FLIGHT);
        let (body_tx, body_rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHUNKS_IN_FLIGHT);
        let writer = tokio::task::spawn_blocking(move || {
            let mut rows = 0u64;
            let error_tx = body_tx.clone();
            let result = write_workbook(&spec, ChannelWriter::new(body_tx), SHEET_DEFLATE_LEVEL, |sheet| {
                let mut cells = Vec::with_capacity(spec.columns.len());
                while let Some(batch) = rows_rx.blocking_recv() {
                    // A client gone while the last chunk is still filling: stop now.
                    if error_tx.is_closed() {
                        return Err(WriteError::ClientGone);
                    }
                    let Batch::Rows(batch) = batch else {
                        return Err(WriteError::Failed("reading the rows failed".into()));
                    };
                    for r in batch {
                        cells.clear();
                        render(r, &spec.columns, &mut cells);
                        sheet.push(&cells)?;
                        rows += 1;
                    }
                }
                Ok(())
            })
            .and_then(|mut out| {
                out.send_buffer().map_err(|_| WriteError::ClientGone)?;
                Ok(out.sent)
            });
            match result {
                Ok(bytes) => Outcome::Completed { rows, bytes },
                Err(e) => {
                    let reason = e.to_string();
                    if !matches!(e, WriteError::ClientGone) {
                        log::error!("export {:?} failed: {reason}", spec.title);
                        let _ = error_tx.blocking_send(Err(io::Error::other("the export failed")));
                    }
                    Outcome::Aborted { rows, reason }
                }
            }
        });
        let body = futures_util::stream::unfold(body_rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
        (Export { rows: rows_tx, writer }, body)
    }

    /// Hands a batch to the writer, waiting while it has [`BATCHES_IN_FLIGHT`]. False when the
    /// writer has stopped (the client went away): stop fetching.
    pub async fn send(&self, batch: Vec<R>) -> bool {
        self.rows.send(Batch::Rows(batch)).await.is_ok()
    }

    /// No more rows: waits for the file to be written out.
    pub async fn finish(self) -> Outcome {
        drop(self.rows);
        self.writer.await.unwrap_or_else(|e| Outcome::Aborted { rows: 0, reason: format!("the writer thread failed: {e}") })
    }

    /// The rows could not be read: the writer stops and the body ends in an error.
    pub async fn fail(self) -> Outcome {
        let _ = self.rows.send(Batch::Failed).await;
        self.finish().await
    }
}

/// Why a workbook could not be written to the end.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the client stopped reading")]
    ClientGone,
    #[error("{0}")]
    Failed(String),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe { WriteError::ClientGone } else { WriteError::Failed(e.to_string()) }
    }
}

impl From<XlsxError> for WriteError {
    fn from(e: XlsxError) -> Self {
        match e {
            XlsxError::IoError(io) => io.into(),
            e => WriteError::Failed(e.to_string()),
        }
    }
}

impl From<zip::result::ZipError> for WriteError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(io) => io.into(),
            e => WriteError::Failed(e.to_string()),
        }
    }
}

/// The 200 answer streaming `body`. Marked `identity` so the compression middleware leaves the
/// (already deflated) workbook alone.
pub fn respond(disposition: String, body: impl Stream<Item = Result<Bytes, io::Error>> + 'static) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(XLSX_TYPE)
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, disposition))
        .insert_header(actix_web::http::header::ContentEncoding::Identity)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// What an export's audit entry says (action `export`): the filters, the columns, whether
/// personal data was shown in full, and how it ended.
#[derive(Debug, Serialize)]
pub struct AuditRecord<F: Serialize> {
    pub filters: F,
    pub columns: Vec<&'static str>,
    pub reveal: serde_json::Value,
    pub rows: u64,
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}

/// Writes the export's audit entry once it has ended, on a fresh connection (the fetch's was
/// given back when the last row was read, so a slow download does not hold one).
/// `target`: the entity kind and the id of the org the export was asked for.
pub async fn audit_outcome<F: Serialize>(
    state: &AppState,
    actor: &Actor,
    target: (&str, Option<i64>),
    filters: F,
    columns: &[Column],
    reveal: serde_json::Value,
    outcome: &Outcome,
) {
    let (entity, entity_id) = target;
    let record = AuditRecord {
        filters,
        columns: columns.iter().map(|c| c.key).collect(),
        reveal,
        rows: outcome.rows(),
        completed: matches!(outcome, Outcome::Completed { .. }),
        aborted: match outcome {
            Outcome::Aborted { reason, .. } => Some(reason.clone()),
            Outcome::Completed { .. } => None,
        },
    };
    let written = async {
        let mut conn = db::conn(&state.pool).await?;
        audit::record(&mut conn, By::from(actor), "export", entity, entity_id, None::<&()>, Some(&record)).await
    };
    if let Err(e) = written.await {
        log::error!("could not audit the {entity} export by {}: {e}", actor.username);
    }
}
