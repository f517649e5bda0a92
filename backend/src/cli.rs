//! The `dangjian` command: serve, migrate, openapi, demo-data, gen, gen-roster, user create.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::audit::By;
use crate::auth::{Role, password};
use crate::config::Config;
use crate::error::AppError;
use crate::{AppState, accounts, app, db, demo, jobs, synthetic};

#[derive(Parser)]
#[command(name = "dangjian", version, about = "智慧党建平台: the party-building platform's server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, its docs and the web app (BIND, default 127.0.0.1:8080).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Load the demo institution, members and logins.
    DemoData {
        /// Do nothing when the database already holds organizations.
        #[arg(long)]
        if_empty: bool,
    },
    /// Fill the database with synthetic data at any size (for benchmarks).
    Gen {
        #[arg(long, default_value_t = 100_000)]
        members: u64,
        #[arg(long, default_value_t = 6_000)]
        orgs: u64,
        /// Seed of the random generator, for repeatable data.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Years of meetings ending today (with officers and attendance); 0 = none.
        #[arg(long, default_value_t = 0)]
        meetings_years: u32,
        /// Attendance rows aimed at: lists are recorded for the meetings since the day that gives
        /// about this many (older meetings stand without lists).
        #[arg(long, default_value_t = 5_000_000)]
        attendance_rows: u64,
    },
    /// Write a generated roster of new members as an import file (for the import benchmark).
    GenRoster {
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Members are spread over the first this many branches of the database.
        #[arg(long, default_value_t = 2_000)]
        branches: u64,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Manage login accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// ROLE:ORG_CODE (repeatable); ROLE is masses, member, branch, committee or political_dept.
        /// political_dept without an org code covers the whole institution.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Link the account to the person with this citizen ID number.
        #[arg(long)]
        id_number: Option<String>,
    },
}

pub async fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,actix_server=warn")).init();
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dangjian: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn run(command: Command) -> CliResult {
    match command {
        Command::Openapi => {
            println!("{}", app::openapi_json()?);
            Ok(())
        }
        Command::Migrate => {
            let applied = db::run_migrations(&Config::database_url()?).await?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for m in applied {
                println!("applied {m}");
            }
            Ok(())
        }
        Command::Serve => serve().await,
        Command::DemoData { if_empty } => {
            let config = Config::from_env()?;
            let mut conn = db::connect(config.database_url.clone(), config.clock).await?;
            match demo::load(&mut conn, &config.data_key, if_empty, config.clock.today()).await? {
                Some(summary) => println!("{summary}"),
                None => println!("the database already holds organizations: demo data not loaded"),
            }
            Ok(())
        }
        Command::Gen { members, orgs, seed, meetings_years, attendance_rows } => {
            let config = Config::from_env()?;
            let meetings = synthetic::MeetingSize { years: meetings_years, attendance_rows };
            synthetic::run(&config.database_url, &config.data_key, synthetic::Size { members, orgs, seed, meetings }, config.clock.today()).await?;
            Ok(())
        }
        Command::GenRoster { rows, branches, out, seed } => {
            let config = Config::from_env()?;
            synthetic::roster(&config.database_url, &out, rows, branches, seed, config.clock.today()).await?;
            Ok(())
        }
        Command::User { command: UserCommand::Create { username, grants, id_number } } => {
            let config = Config::from_env()?;
            let mut parsed = Vec::new();
            for g in &grants {
                let (role, org) = match g.split_once(':') {
                    Some((r, o)) => (r, Some(o.trim().to_string()).filter(|o| !o.is_empty())),
                    None => (g.as_str(), None),
                };
                let role = Role::parse(role.trim()).ok_or_else(|| format!("unknown role {role:?}: use masses, member, branch, committee or political_dept"))?;
                parsed.push((role, org));
            }
            let mut pw = String::new();
            std::io::stdin().read_to_string(&mut pw)?;
            let pw = pw.trim_end_matches(['\r', '\n']).to_string();
            // The length is checked before anything else; the rest of the policy once the
            // person (whose name the password must not be made of) is known.
            let message = |e: AppError| e.fields.as_slice().first().map(|f| f.message.clone()).or(e.detail.map(|d| d.0)).unwrap_or_else(|| e.code.to_string());
            password::check_strength("password", &pw, &[&username])
                .or_else(|e| if e.fields.as_slice().first().is_some_and(|f| f.code == "weak_password") { Ok(()) } else { Err(e) })
                .map_err(message)?;
            let mut conn = db::connect(config.database_url.clone(), config.clock).await?;
            let key = config.data_key.clone();
            let id = conn
                .transaction::<_, AppError, _>(async move |conn| {
                    let person = match id_number {
                        Some(n) => Some(person_by_id_number(conn, &key, &n).await?),
                        None => None,
                    };
                    let name = match person {
                        Some(id) => crate::schema::people::table.find(id).select(crate::schema::people::name).first::<String>(conn).await?,
                        None => String::new(),
                    };
                    password::check_strength("password", &pw, &[&username, &name])?;
                    let hash = password::hash(pw).await?;
                    accounts::create(conn, By::CLI, accounts::NewAccount { username: &username, password_hash: hash, person_id: person }, &parsed).await
                })
                .await
                .map_err(message)?;
            println!("created account {id}");
            Ok(())
        }
    }
}

async fn person_by_id_number(conn: &mut AsyncPgConnection, key: &crate::crypto::DataKey, n: &str) -> Result<i64, AppError> {
    use crate::schema::people;
    let normalized = n.trim().to_uppercase();
    people::table
        .filter(people::id_number_hash.eq(key.blind_index(crate::members::queries::ID_NUMBER_INDEX, &normalized)))
        .select(people::id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::field("id_number", "not_found", "no person has this citizen ID number", "没有此公民身份号码的人员"))
}

/// Creates `admin` (political_dept over the whole institution) when DANGJIAN_ADMIN_PASSWORD is
/// set and no account exists yet.
async fn bootstrap_admin(conn: &mut AsyncPgConnection, config: &Config) -> CliResult {
    let Some(pw) = config.admin_password.clone() else {
        return Ok(());
    };
    if accounts::count(conn).await? > 0 {
        return Ok(());
    }
    password::check_strength("DANGJIAN_ADMIN_PASSWORD", &pw, &["admin"])
        .map_err(|e| format!("DANGJIAN_ADMIN_PASSWORD: {}", e.fields.as_slice().first().map(|f| f.message.as_str()).unwrap_or_default()))?;
    let hash = password::hash(pw).await?;
    accounts::create(conn, By::CLI, accounts::NewAccount { username: "admin", password_hash: hash, person_id: None }, &[(Role::PoliticalDept, None)]).await?;
    println!("created account admin (political_dept over the whole institution)");
    Ok(())
}

async fn serve() -> CliResult {
    let config = Config::from_env()?;
    let applied = db::run_migrations(&config.database_url).await?;
    for m in applied {
        log::info!("applied migration {m}");
    }
    let mut conn = db::connect(config.database_url.clone(), config.clock).await?;
    bootstrap_admin(&mut conn, &config).await?;
    let logins = demo::logins(&mut conn).await?;
    drop(conn);
    let bind = config.bind.clone();
    let pool = db::pool(&config.database_url, config.pool_size, config.pool_timeout, config.clock)?;
    // The job worker: one job at a time per process, claimed from the shared jobs table.
    actix_web::rt::spawn(jobs::Worker::new(pool.clone(), config.clone(), jobs::Registry::standard()).run());
    let shared = app::Shared::new(AppState { pool, config })?;
    let server = actix_web::HttpServer::new(move || app::build(shared.clone())).bind(&bind)?;
    let url = format!("http://{bind}");
    println!();
    println!("  智慧党建平台 is running at {url}/");
    println!("  API docs (Swagger UI):   {url}/api/docs/");
    println!("  OpenAPI document:        {url}/api/v1/openapi.json");
    if !logins.is_empty() {
        println!("  Demo logins (password {}):", demo::DEMO_PASSWORD);
        for (user, what) in logins {
            println!("    {user:<12} {what}");
        }
    }
    println!("  Press Ctrl-C to stop.");
    println!();
    server.run().await?;
    Ok(())
}
