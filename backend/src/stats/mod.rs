//! Statistics (党内统计): the structure of the membership of any subtree on any date
//! (DOMAIN.md, Party statistics), computed from the dated member history.

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(_cfg: &mut ServiceConfig) {}
