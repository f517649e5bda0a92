//! Statistics (党内统计): the structure of the membership of any subtree on any date
//! (docs/domain.md, Party statistics), computed from the dated member history.

pub mod bands;
pub mod handlers;
pub mod queries;
pub mod reminders;
pub mod types;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::stats_structure);
    cfg.service(handlers::stats_trend);
    cfg.service(handlers::stats_orgs);
    cfg.service(reminders::stats_reminders);
}
