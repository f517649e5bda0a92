//! 智慧党建平台: the backend. Modules are named after the domain (docs/domain.md): `orgs`,
//! `members`, `accounts`, `auth`; `app` wires them into one actix-web application whose routes,
//! OpenAPI document and authorization policy come from the same declarations.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod code_lists;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod exports;
pub mod http;
pub mod imports;
pub mod jobs;
pub mod ledger;
pub mod meetings;
pub mod members;
pub mod notifications;
pub mod orgs;
pub mod pdf;
pub mod reports;
pub mod schema;
pub mod stats;
pub mod storage;
pub mod sync;
pub mod synthetic;
pub mod text;

/// What every request handler shares: the pool and the configuration. Nothing else lives in the
/// process, so any number of processes can serve behind a load balancer.
pub struct AppState {
    pub pool: db::DbPool,
    pub config: config::Config,
}
