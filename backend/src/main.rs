//! The `dangjian` binary; everything lives in the library (`cli`, `app`, the domain modules).

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    dangjian::cli::main().await
}
