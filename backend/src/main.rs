//! The `dangjian` binary; everything lives in the library (`cli`, `app`, the domain modules).

/// mimalloc rather than glibc's malloc: an import parses a workbook on a blocking thread and
/// writes it from a worker thread, and glibc's per-thread arenas kept the freed memory of one
/// from being reused by the other (a 100,000-row import peaked at 400 MB resident; see
/// docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    dangjian::cli::main().await
}
